import NIOPosix

/// Runs blocking file-system work (reads, fsyncs, directory walks, copies) on NIO's thread pool, so it
/// never stalls Swift's cooperative thread pool (two threads on this machine: two slow fsyncs there would
/// stall every request).
public enum BlockingWork {
    /// Threads in the pool: enough that a few slow disk operations do not queue the fast ones.
    static let threadCount = 16

    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: threadCount)
        pool.start()
        return pool
    }()

    /// Starting and stopping long-lived sandboxes (exec sessions, warm sandboxes) gets a pool of its own.
    /// Its threads must live as long as the server: bubblewrap's `--die-with-parent` (PR_SET_PDEATHSIG)
    /// fires when the spawning *thread* exits, not the process — a short-lived thread would kill every
    /// sandbox it started. `NIOThreadPool` keeps its threads until it is shut down, which we never do.
    /// Separate from `pool`, so that a burst of slow starts never queues the file tools' work behind it.
    private static let spawnPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    /// For starting and stopping long-lived sandboxes; see `spawnPool`.
    public static func runSpawn<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await spawnPool.runIfActive(body)
    }
}
