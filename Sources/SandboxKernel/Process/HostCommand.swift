#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation

/// Runs one of the host's tools (`mkfs.ext4`, `e2fsck`, `resize2fs`, `cp`, `ip`, `nft`, `unshare`) to its
/// end, as root outside every sandbox, with a fixed environment and an optional script on stdin. Spawned
/// with `ChildSpawn` and its status claimed from `ChildReaper`. Blocking: call it on `BlockingWork`.
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
        let spawned = ChildSpawn.run(executable, arguments: [executable] + arguments,
            environment: ["PATH=" + searchPath.joined(separator: ":"), "LANG=C"],
            descriptors: [(0, .duplicate(stdinPipe[0])), (1, .open("/dev/null", O_WRONLY)), (2, .duplicate(pipe[1]))])
        close(pipe[1])
        close(stdinPipe[0])
        defer { close(pipe[0]) }
        let pid: pid_t
        switch spawned {
        case .success(let child): pid = child
        case .failure(let error):
            close(stdinPipe[1])
            return "cannot run \(executable): \(String(cString: strerror(error.code)))"
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
