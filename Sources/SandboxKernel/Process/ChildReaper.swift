#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation

/// The only place the server calls `waitpid`: a thread reaps every child — ours and the orphans a
/// killed process tree leaves (the server is a child subreaper) — so no zombies build up.
/// Launchers claim their own child's status with `status(of:)`.
public final class ChildReaper: @unchecked Sendable {
    public static let shared = ChildReaper()

    private let condition = NSCondition()
    private var statuses: [pid_t: (status: Int32, reaped: Date)] = [:]
    private var running = false

    /// Becomes a subreaper and starts the reaping thread (idempotent).
    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !running else { return }
        running = true
        _ = csandbox_set_child_subreaper()
        let thread = Thread { [self] in reapForever() }
        thread.name = "child-reaper"
        thread.start()
    }

    /// Tells the reaper a child exists (wakes it if it was idle).
    package func noteSpawn() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// The raw wait status of `pid`, waiting up to `timeout` seconds; nil if it has not exited yet.
    package func status(of pid: pid_t, timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let entry = statuses.removeValue(forKey: pid) { return entry.status }
            if !condition.wait(until: deadline) { return statuses.removeValue(forKey: pid)?.status }
        }
    }

    private func reapForever() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, 0)
            if pid > 0 {
                condition.lock()
                statuses[pid] = (status, Date())
                if statuses.count > 256 {
                    // Orphans nobody claims: forget them after a minute.
                    let cutoff = Date().addingTimeInterval(-60)
                    statuses = statuses.filter { $0.value.reaped > cutoff }
                }
                condition.broadcast()
                condition.unlock()
            } else if errno == ECHILD {
                condition.lock()
                _ = condition.wait(until: Date().addingTimeInterval(0.05))
                condition.unlock()
            }
        }
    }
}
