#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// Runs one of the host's network tools (`ip`, `nft`, `unshare`) as root, outside every sandbox, with a
/// script on stdin. Spawned like agent commands (no fork of the server) and reaped through `ChildReaper`,
/// which owns `waitpid` for the whole process. Blocking: call it from `BlockingWork`.
enum NetworkCommand {
    /// The tool failed: its first line of stderr (or exit status) in a sentence.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The first of `candidates` that is executable; nil when none is installed.
    static func locate(_ name: String) -> String? {
        ["/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"].map { $0 + name }.first { access($0, X_OK) == 0 }
    }

    /// Runs `executable` with `arguments`, feeding `input` on stdin; throws `Failure` on a non-zero exit.
    static func run(_ executable: String, _ arguments: [String], input: String = "") throws {
        var stdinPipe: [Int32] = [-1, -1], stderrPipe: [Int32] = [-1, -1]
        try syscallRetrying("pipe2") { csandbox_pipe_cloexec(&stdinPipe) }
        defer { [stdinPipe[0], stdinPipe[1]].filter { $0 >= 0 }.forEach { close($0) } }
        try syscallRetrying("pipe2") { csandbox_pipe_cloexec(&stderrPipe) }
        defer { [stderrPipe[0], stderrPipe[1]].filter { $0 >= 0 }.forEach { close($0) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
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
        let environment: [String] = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        ChildReaper.shared.start()
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        ChildReaper.shared.noteSpawn()
        guard rc == 0 else { throw Failure(description: "cannot run \(executable): \(String(cString: strerror(rc)))") }
        close(stdinPipe[0])
        close(stderrPipe[1])
        stdinPipe[0] = -1
        stderrPipe[1] = -1
        // Scripts are a few hundred bytes: well under a pipe's buffer, so writing first cannot deadlock.
        let bytes = Array(input.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(stdinPipe[1], $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            if written <= 0 { break }
            offset += written
        }
        close(stdinPipe[1])
        stdinPipe[1] = -1
        var message: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(stderrPipe[0], $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            if message.count < 16384 { message += buffer[..<count] }
        }
        let status = ChildReaper.shared.status(of: pid, timeout: 30) ?? -1
        guard status == 0 else {
            let text = String(decoding: message, as: UTF8.self)
            let line = text.split(separator: "\n").first.map(String.init) ?? "exit status \(status)"
            let name = executable.split(separator: "/").last.map(String.init) ?? executable
            throw Failure(description: "\(name) \(arguments.prefix(2).joined(separator: " ")): \(line)")
        }
    }
}
