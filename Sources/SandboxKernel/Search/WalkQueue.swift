#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The directories `GlobWalker`'s threads share: a short FIFO of opened directories waiting for a
/// thread, and the walk's end (every worker idle with nothing queued) or its deadline.
///
/// A worker offers a subdirectory only while the queue is short (`capacity`), otherwise it descends
/// itself, so open descriptors stay bounded (the queue + at most nine per worker, however deep: see
/// `GlobWalker.work`). A worker that arrives after the end finds nothing to do, so the walk never
/// waits for a thread to start.
final class WalkQueue: @unchecked Sendable {
    /// An opened directory: its descriptor (owned), its path with a trailing `/` (or the prefix),
    /// the pattern states live in it, and its depth below the start.
    struct Item {
        let fd: Int32
        let path: [UInt8]
        let states: [UInt32]
        let depth: Int
    }

    private let condition = NSCondition()
    private var items: [Item] = []
    private var head = 0
    private var idle = 0
    private var registered = 0
    private var finished = false
    private let capacity: Int
    private let deadline: Date
    /// The walk stopped at the deadline.
    private(set) var timedOut = false

    init(capacity: Int, deadline: Date) {
        self.capacity = capacity
        self.deadline = deadline
        items.reserveCapacity(capacity + 1)
    }

    /// Registers a worker; false when the walk is already over.
    func join() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !finished else { return false }
        registered += 1
        return true
    }

    /// The next directory to walk, waiting while other workers may still offer one; nil at the end.
    func next() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if finished { return nil }
            if head < items.count {
                let item = items[head]
                head += 1
                if head == items.count { items.removeAll(keepingCapacity: true); head = 0 }
                return item
            }
            idle += 1
            if idle == registered {
                finished = true
                condition.broadcast()
                return nil
            }
            condition.wait()
            idle -= 1
        }
    }

    /// Whether an offered directory would be taken (the queue is short).
    var wantsWork: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !finished && items.count - head < capacity
    }

    /// Queues a directory for any worker.
    func push(_ item: Item) {
        condition.lock()
        if finished {
            condition.unlock()
            close(item.fd)
            return
        }
        items.append(item)
        condition.signal()
        condition.unlock()
    }

    /// Checks the deadline; past it, ends the walk for every worker. True when the walk must stop.
    func pastDeadline() -> Bool {
        let late = Date() > deadline
        condition.lock()
        defer { condition.unlock() }
        if late, !finished {
            timedOut = true
            finished = true
            condition.broadcast()
        }
        return finished && timedOut
    }

    /// Closes directories still queued when the walk stopped early.
    func closeRemaining() {
        condition.lock()
        defer { condition.unlock() }
        for item in items[head...] { close(item.fd) }
        items.removeAll()
        head = 0
    }
}
