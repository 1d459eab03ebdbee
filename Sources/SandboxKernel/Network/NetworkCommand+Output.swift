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
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
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
        let environment = ["PATH=" + HostCommand.searchPath.joined(separator: ":"), "LANG=C"]
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
        defer { close(pipe[0]) }
        guard spawned == 0 else { return nil }
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
