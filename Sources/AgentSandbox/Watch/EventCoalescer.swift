/// Turns a burst of raw file events into what a watch client sees, one window at a time:
/// - the writes of one open-write-close cycle are one event: `created` (a new file) or `modified`
///   absorbs the `IN_MODIFY`s and attribute changes that follow until `IN_CLOSE_WRITE` seals it (a file
///   kept open and written across windows gets one `modified` per window);
/// - a path reported `created` twice in a window (a new directory's scan and the kernel both saw it)
///   is reported once;
/// - everything else is kept, in order. Past `capacity` pending events the rest of the window is
///   dropped and `lost` set: the stream says `overflow` and the client re-lists.
struct EventCoalescer {
    let capacity: Int
    private(set) var pending: [WatchEvent] = []
    /// Paths whose pending created/modified event absorbs further writes (until closed).
    private var open: [String: Int] = [:]
    private var createdInWindow: Set<String> = []
    /// Events were lost (the kernel's queue or this window overflowed).
    var lost = false

    init(capacity: Int) { self.capacity = capacity }

    mutating func created(_ path: String, isDirectory: Bool) {
        guard !createdInWindow.contains(path) else { return }
        createdInWindow.insert(path)
        if append(WatchEvent(.created, path: path, isDirectory: isDirectory)), !isDirectory { open[path] = pending.count - 1 }
    }

    /// Content or attributes changed (`IN_MODIFY`, `IN_ATTRIB`).
    mutating func written(_ path: String, isDirectory: Bool) {
        guard open[path] == nil else { return }
        if append(WatchEvent(.modified, path: path, isDirectory: isDirectory)) { open[path] = pending.count - 1 }
    }

    /// The file was closed after writing: its next write is a new `modified`.
    mutating func closed(_ path: String) {
        open[path] = nil
    }

    mutating func deleted(_ path: String, isDirectory: Bool) {
        open[path] = nil
        createdInWindow.remove(path)
        append(WatchEvent(.deleted, path: path, isDirectory: isDirectory))
    }

    mutating func moved(from: String, to: String, isDirectory: Bool) {
        open[from] = nil
        open[to] = nil
        append(WatchEvent(.moved, path: to, from: from, isDirectory: isDirectory))
    }

    /// A problem to report in the stream (it does not end it).
    mutating func problem(_ event: WatchEvent) {
        append(event)
    }

    /// The window's events; starts the next window.
    mutating func take() -> [WatchEvent] {
        defer {
            pending.removeAll(keepingCapacity: true)
            open.removeAll(keepingCapacity: true)
            createdInWindow.removeAll(keepingCapacity: true)
        }
        return pending
    }

    @discardableResult
    private mutating func append(_ event: WatchEvent) -> Bool {
        guard pending.count < capacity else {
            lost = true
            return false
        }
        pending.append(event)
        return true
    }
}
