#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation

/// Runs one of the host's tools (`mkfs.ext4`, `e2fsck`, `resize2fs`, `cp`, `ip`, `nft`, `unshare`) to its
/// end, as root outside every sandbox, with a fixed environment and an optional script on stdin. Spawned with `posix_spawn` and its status claimed from `ChildReaper`
/// (which reaps every child of the server: Foundation's `Process` would read a status the reaper
/// already took). Blocking: call it on `BlockingWork`.
package enum HostCommand {
    package static let searchPath = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]

    /// The tool's absolute path, or nil when it is not installed.
    package static func locate(_ name: String) -> String? {
        searchPath.map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }

    /// nil on success (an exit status in `accepted`), else a sentence with the tool's first line of stderr.
    /// `name` is a tool name looked up in `searchPath`, or an absolute path. `input` (a few KiB at most:
    /// it is written whole before stderr is read) goes to the tool's stdin.
    package static func run(_ name: String, _ arguments: [String], input: String = "", accepted: Set<Int32> = [0]) -> String? {
        guard let executable = name.hasPrefix("/") ? name : locate(name) else {
            return "\(name) is not installed (scripts/setup installs it)"
        }
        let toolName = executable.split(separator: "/").last.map(String.init) ?? name
        var pipe: [Int32] = [-1, -1], stdinPipe: [Int32] = [-1, -1]
        guard csandbox_pipe_cloexec(&pipe) == 0 else { return "cannot run \(name): \(String(cString: strerror(errno)))" }
        guard csandbox_pipe_cloexec(&stdinPipe) == 0 else {
            close(pipe[0])
            close(pipe[1])
            return "cannot run \(name): \(String(cString: strerror(errno)))"
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let environment = ["PATH=" + searchPath.joined(separator: ":"), "LANG=C"]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        ChildReaper.shared.start()
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        ChildReaper.shared.noteSpawn()
        close(pipe[1])
        close(stdinPipe[0])
        defer { close(pipe[0]) }
        guard spawned == 0 else {
            close(stdinPipe[1])
            return "cannot run \(executable): \(String(cString: strerror(spawned)))"
        }
        _ = Array(input.utf8).withUnsafeBytes { writeFully(stdinPipe[1], $0) }
        close(stdinPipe[1])
        var message = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = retryingEINTR { read(pipe[0], &buffer, buffer.count) }
            if count <= 0 { break }
            if message.count < 65536 { message += buffer[..<count] }
        }
        guard let status = ChildReaper.shared.status(of: pid, timeout: 3600) else { return "\(toolName) did not finish" }
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard accepted.contains(code) else {
            let lines = String(decoding: message, as: UTF8.self).split(separator: "\n")
            let detail = lines.first { !$0.hasPrefix(toolName) }.map(String.init) ?? "exit status \(code)"
            return "\(toolName): \(detail)"
        }
        return nil
    }
}
