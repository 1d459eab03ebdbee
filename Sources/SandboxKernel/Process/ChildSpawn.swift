#if canImport(Glibc)
import Glibc
#endif

/// The one way the server starts a child: `posix_spawn` with every signal reset to its default and an
/// empty signal mask (the server's threads block or handle some; a child must not inherit that), the
/// descriptors the caller maps onto the child's fds, and the child registered with `ChildReaper`, which
/// reaps it and hands its status to whoever claims it with `ChildReaper.status(of:timeout:)`.
///
/// ```
/// let pid = try ChildSpawn.run("/bin/true", arguments: ["true"], environment: [],
///     descriptors: [(0, .open("/dev/null", O_RDONLY))]).get()
/// let status = ChildReaper.shared.status(of: pid, timeout: 5)
/// ```
package enum ChildSpawn {
    /// What a child's descriptor becomes.
    package enum Source {
        /// A duplicate of one of the server's descriptors.
        case duplicate(Int32)
        /// A file opened in the child (`/dev/null`).
        case open(String, Int32)
    }

    /// Spawns `executable` with `arguments` (argv, `argv[0]` included) and `environment` (`KEY=value`);
    /// `descriptors` maps a child fd onto its source. The pid, or the errno `posix_spawn` returned.
    package static func run(_ executable: String, arguments: [String], environment: [String],
                            descriptors: [(fd: Int32, source: Source)]) -> Result<pid_t, Errno> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, source) in descriptors {
            switch source {
            case .duplicate(let from): posix_spawn_file_actions_adddup2(&actions, from, fd)
            case .open(let path, let flags): posix_spawn_file_actions_addopen(&actions, fd, path, flags, 0)
            }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        var rc: Int32 = 0
        ChildReaper.shared.spawning { () -> pid_t? in
            rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            return rc == 0 ? pid : nil
        }
        return rc == 0 ? .success(pid) : .failure(Errno(rc))
    }
}
