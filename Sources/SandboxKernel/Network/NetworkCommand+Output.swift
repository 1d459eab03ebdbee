#if canImport(Glibc)
import Glibc
#endif
import CSandbox

extension NetworkCommand {
    /// What a tool printed on stdout (up to 16 MiB), when it exited 0; nil otherwise or when it is not
    /// installed. For listings (`nft list tables`); stderr is discarded. Blocking: call it from `BlockingWork`.
    static func output(_ name: String, _ arguments: [String]) -> String? {
        guard let executable = name.hasPrefix("/") ? name : HostCommand.locate(name) else { return nil }
        var pipe: [Int32] = [-1, -1]
        guard csandbox_pipe_cloexec(&pipe) == 0 else { return nil }
        let spawned = ChildSpawn.run(executable, arguments: [executable] + arguments,
            environment: ["PATH=" + HostCommand.searchPath.joined(separator: ":"), "LANG=C"],
            descriptors: [(0, .open("/dev/null", O_RDONLY)), (1, .duplicate(pipe[1])), (2, .open("/dev/null", O_WRONLY))])
        close(pipe[1])
        defer { close(pipe[0]) }
        guard case .success(let pid) = spawned else { return nil }
        var text = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = retryingEINTR { read(pipe[0], &buffer, buffer.count) }
            if count <= 0 { break }
            if text.count < 16 << 20 { text += buffer[..<count] }
        }
        guard let status = ChildReaper.shared.status(of: pid, timeout: 600), status == 0 else { return nil }
        return String(decoding: text, as: UTF8.self)
    }
}
