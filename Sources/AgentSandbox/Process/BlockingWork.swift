import Foundation

/// Runs blocking file-system work (reads, fsyncs, directory walks, copies) on a small pool of
/// dedicated threads, so it never stalls Swift's cooperative thread pool (two threads on this
/// machine: two slow fsyncs there would stall every request).
public enum BlockingWork {
    /// Threads in the pool: enough that a few slow disks operations do not queue the fast ones.
    static let threadCount = 16

    private static let pool = WorkerPool(threads: threadCount, name: "blocking-work")
    private static let spawnPool = WorkerPool(threads: 4, name: "sandbox-spawn")

    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.run(body)
    }

    /// For starting and stopping long-lived sandboxes (exec sessions, warm sandboxes): their own few
    /// long-lived threads — bubblewrap's `--die-with-parent` fires when the spawning *thread* exits —
    /// so that a burst of slow starts never queues the file tools' work behind it.
    public static func runSpawn<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await spawnPool.run(body)
    }
}

/// A fixed set of threads taking closures from one queue.
private final class WorkerPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [@Sendable () -> Void] = []
    private var head = 0

    init(threads: Int, name: String) {
        for index in 0..<threads {
            let thread = Thread { [self] in work() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    /// Runs `body` on one of the pool's threads and awaits its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try body() }) }
        }
    }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        queue.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while head == queue.count { condition.wait() }
            let job = queue[head]
            head += 1
            if head > 1024, head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
        }
    }
}
