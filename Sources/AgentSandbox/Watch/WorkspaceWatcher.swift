#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation
import SandboxKernel
import Synchronization

/// One watch stream: an inotify instance over a workspace directory (and, when recursive, every
/// directory below it, added as they appear), read on a thread of its own, its events coalesced per
/// `window` (`EventCoalescer`) and handed to `events`.
///
/// Bounded memory: at most `bufferedEvents` wait for the client, at most as many per window; beyond
/// that the stream says `overflow`. When the workspace directory itself is replaced (a snapshot
/// restore, an archive `replace`) the watcher starts over on the new one and says `overflow`; when it
/// is gone (the agent was deleted) the stream ends. `stop()` ends it from outside; the thread closes
/// every descriptor it opened on its way out.
final class WorkspaceWatcher: Sendable {
    static let window: Duration = .milliseconds(50)
    static let bufferedEvents = 4096
    /// Quiet time after which the stream gets a keep-alive comment.
    static let keepAliveMilliseconds: Int32 = 15_000

    let events: AsyncStream<WatchEvent>
    private let continuation: AsyncStream<WatchEvent>.Continuation
    private let root: String
    private let base: String
    private let recursive: Bool
    private let budget: WatchBudget
    /// The stop pipe: the thread polls its read end; `stop()` closes the write end.
    private let stopPipe: (read: Int32, write: Int32)
    private let stopped = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    /// Set up by `prepare` and handed to the thread (which then owns it).
    private let initial = Mutex<InotifyTree?>(nil)

    /// A watcher of `base` (relative to the workspace `root`; "" for all of it).
    init(root: String, base: String, recursive: Bool, budget: WatchBudget) throws(ToolError) {
        self.root = root
        self.base = base
        self.recursive = recursive
        self.budget = budget
        var fds: [Int32] = [-1, -1]
        guard csandbox_pipe_cloexec(&fds) == 0 else { throw ToolError(.serverBusy, "The server is out of descriptors; retry shortly.") }
        stopPipe = (fds[0], fds[1])
        (events, continuation) = AsyncStream.makeStream(of: WatchEvent.self, bufferingPolicy: .bufferingOldest(Self.bufferedEvents))
    }

    /// Opens the watches (blocking: a walk of the tree). Throws `WATCH_LIMIT_EXCEEDED` when the tree
    /// has more directories than the agent's budget leaves, 404 when `base` is not a directory.
    func prepare() throws(ToolError) -> Int {
        let tree = try InotifyTree(root: root, budget: budget)
        let directory = tree.openDirectory(base)
        guard directory >= 0 else {
            throw errno == ENOTDIR
                ? ToolError.invalidField("path", "names a file, not a directory: '\(base.prefix(200))'.")
                : ToolError(.notFound, "No directory '\(base.prefix(200))' in the workspace (paths are relative to the workspace root, symlinks are not followed).")
        }
        defer { close(directory) }
        guard tree.add(directory, as: base, recursive: recursive) else {
            throw ToolError(.watchLimitExceeded, "The directory holds more directories than the \(budget.limit) this agent's watches may cover together (\(budget.inUse) in use). Watch a subdirectory (?path=), watch without recursion (?recursive=false), or close other watch streams.")
        }
        let count = tree.paths.count
        initial.withLock { $0 = tree }
        return count
    }

    /// Starts the reading thread (after `prepare`).
    func start() {
        started.store(true, ordering: .releasing)
        let thread = Thread { [self] in
            if let tree = initial.withLock({ $0.take() }) { run(tree) }
            close(stopPipe.read)
            continuation.finish()
        }
        thread.name = "watch"
        thread.start()
    }

    /// Ends the stream (idempotent); the thread exits at its next wake-up, which this causes.
    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        close(stopPipe.write)
    }

    deinit {
        stop()
        if !started.load(ordering: .acquiring) { close(stopPipe.read) }  // the thread never ran to close it
    }

    // MARK: The thread

    private func run(_ first: InotifyTree) {
        var tree = first
        var translator = EventTranslator(recursive: recursive)
        var coalescer = EventCoalescer(capacity: Self.bufferedEvents)
        var deliveryLost = false
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 8)
        defer { buffer.deallocate() }
        var windowEnd: ContinuousClock.Instant?
        continuation.yield(WatchEvent(.ready, path: base, extra: ["recursive": .bool(recursive), "watches": .number(Double(tree.paths.count))]))
        while true {
            var timeout = Self.keepAliveMilliseconds
            if let windowEnd {
                let left = windowEnd - .now
                timeout = max(0, Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            }
            var fds = [pollfd(fd: tree.fd, events: Int16(POLLIN), revents: 0), pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0)]
            let ready = retryingEINTR { poll(&fds, 2, timeout) }
            if ready < 0 { return }
            if ready == 0, windowEnd == nil {
                continuation.yield(WatchEvent(.keepAlive, path: ""))
                continue
            }
            if fds[1].revents != 0 || stopped.load(ordering: .acquiring) { return }
            if fds[0].revents != 0 {
                let count = read(tree.fd, buffer.baseAddress, buffer.count)
                if count > 0 {
                    let outcome = translator.apply(UnsafeRawBufferPointer(rebasing: buffer[..<count]), tree: tree, into: &coalescer)
                    if windowEnd == nil, !coalescer.pending.isEmpty || coalescer.lost { windowEnd = .now + Self.window }
                    if outcome == .rootGone {
                        flush(&coalescer, &deliveryLost)
                        guard let fresh = restart() else { return }
                        tree = fresh
                        translator = EventTranslator(recursive: recursive)
                        coalescer.lost = true
                        windowEnd = .now + Self.window
                    }
                }
            }
            if let end = windowEnd, ContinuousClock.now >= end {
                flush(&coalescer, &deliveryLost)
                windowEnd = nil
            }
        }
    }

    /// Hands the window's events to the stream, `overflow` first when events were lost.
    private func flush(_ coalescer: inout EventCoalescer, _ deliveryLost: inout Bool) {
        var batch = coalescer.take()
        if coalescer.lost || deliveryLost {
            batch.insert(WatchEvent(.overflow, path: base, extra: ["message": "Events were lost (a burst larger than the server buffers, or the workspace was replaced); list the directory again."]), at: 0)
            coalescer.lost = false
        }
        for event in batch {
            switch continuation.yield(event) {
            case .dropped: deliveryLost = true
            case .enqueued: if event.kind == .overflow { deliveryLost = false }
            default: return
            }
        }
    }

    /// The watched directory was replaced or removed: watches the one now at the workspace path, or
    /// nil when there is none (the agent is gone).
    private func restart() -> InotifyTree? {
        guard !stopped.load(ordering: .acquiring), let tree = try? InotifyTree(root: root, budget: budget) else { return nil }
        let directory = tree.openDirectory(base)
        guard directory >= 0 else { return nil }
        defer { close(directory) }
        _ = tree.add(directory, as: base, recursive: recursive)
        return tree
    }
}
