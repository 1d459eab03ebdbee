import Synchronization
import SandboxKernel

/// The inotify watches (one per watched directory) one agent's watch streams hold together, against
/// `--max-watched-directories` (`ResourceLimits.watchedDirectoriesPerAgent`).
final class WatchBudget: Sendable {
    let limit: Int
    private let used = Mutex(0)

    init(limit: Int) { self.limit = limit }

    /// Takes one watch; false when the agent holds `limit` already.
    func take() -> Bool {
        used.withLock { used in
            guard used < limit else { return false }
            used += 1
            return true
        }
    }

    func release(_ count: Int = 1) {
        used.withLock { $0 = max(0, $0 - count) }
    }

    var inUse: Int { used.withLock { $0 } }
}
