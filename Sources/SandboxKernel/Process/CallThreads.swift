import Foundation

/// Threads for agent calls: each call blocks one thread (its output loop) for as long as the command
/// runs, so calls never run on Swift's cooperative pool, and there is no bound on how many run at once
/// (a bounded pool would queue one agent's call behind another's long one). A thread that finished a
/// call waits up to `idleSeconds` for the next one instead of exiting: a warm `bash true` then costs a
/// wake-up, not a thread's creation and teardown (~50 µs of a ~2.5 ms call on this machine).
///
/// A bubblewrap a call starts ties its `--die-with-parent` to the thread that spawned it; a thread kept
/// here outlives the call, and the call has already killed and reaped its whole tree, so nothing of the
/// call depends on the thread exiting. (Long-lived sandboxes start on `BlockingWork.runSpawn`'s threads.)
package final class CallThreads: @unchecked Sendable {
    package static let shared = CallThreads(name: "agent-call", idleSeconds: 30)

    private let name: String
    private let idleSeconds: Double
    private let condition = NSCondition()
    /// Jobs handed to idle threads, not yet taken.
    private var jobs: [@Sendable () -> Void] = []
    /// Threads waiting for a job, less the jobs already promised to them.
    private var idle = 0

    init(name: String, idleSeconds: Double) {
        self.name = name
        self.idleSeconds = idleSeconds
    }

    /// Runs `body` on one of the call threads (a new one when none is idle) and awaits its result.
    package func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, E>, Never>) in
            submit {
                do throws(E) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    private func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        if idle > 0 {
            idle -= 1
            jobs.append(job)
            condition.signal()
            condition.unlock()
            return
        }
        condition.unlock()
        let thread = Thread { [self] in work(first: job) }
        thread.name = name
        thread.start()
    }

    /// Runs `first`, then the jobs handed over, until none came for `idleSeconds`.
    private func work(first: @escaping @Sendable () -> Void) {
        var job = first
        while true {
            job()
            condition.lock()
            idle += 1
            let deadline = Date().addingTimeInterval(idleSeconds)
            while jobs.isEmpty, condition.wait(until: deadline) {}
            guard !jobs.isEmpty else {
                idle -= 1
                condition.unlock()
                return
            }
            job = jobs.removeFirst()  // its submitter already took this thread out of `idle`
            condition.unlock()
        }
    }
}
