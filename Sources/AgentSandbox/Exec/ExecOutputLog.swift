/// Which output stream a chunk came from.
public enum ExecStream: Int, Sendable, CaseIterable {
    case stdout = 0, stderr = 1
    public var name: String { self == .stdout ? "stdout" : "stderr" }
}

/// How a session's main process ended.
public struct ExecExit: Sendable, Equatable {
    /// The exit status; 128 + signal when killed by a signal; 124 on timeout.
    public var exitCode: Int32
    public var signal: Int32?
    public var timedOut: Bool
}

/// What a watcher receives, in order.
public enum ExecEvent: Sendable, Equatable {
    /// A chunk of output with its event id (ids grow across both streams).
    case output(id: UInt64, stream: ExecStream, bytes: [UInt8])
    /// Output this watcher will never see: the ring dropped it before the watcher got there.
    case dropped(stream: ExecStream, bytes: Int)
    /// The end: always the last event, with the highest id.
    case exit(id: UInt64, ExecExit)
}

/// Where a watcher is: the last event id it received and how many bytes of each stream it has accounted for.
public struct ExecCursor: Sendable, Equatable {
    public var lastID: UInt64 = 0
    var seen: [Int] = [0, 0]
    /// Set once the exit event was delivered.
    public var finished = false

    public init() {}
}

/// A session's output: one ring buffer per stream (bounded by `capacity` bytes each, oldest chunks dropped
/// first), numbered chunks, and the exit event. Not thread-safe: `ExecSession` guards it.
///
/// ```swift
/// var log = ExecOutputLog(capacity: 1 << 20)
/// log.append(.stdout, Array("hi\n".utf8))
/// var cursor = ExecCursor()
/// log.read(&cursor, limit: 1 << 16)   // [.output(id: 1, stream: .stdout, bytes: "hi\n")]
/// ```
public struct ExecOutputLog: Sendable {
    struct Chunk: Sendable {
        let id: UInt64
        /// Bytes of the stream before this chunk.
        let offset: Int
        var bytes: [UInt8]
        /// What the chunk counts against the capacity: small chunks cost their bookkeeping too.
        var charge: Int { max(bytes.count, 64) }
    }

    struct Ring: Sendable {
        var chunks: [Chunk] = []
        var head = 0
        var charged = 0
        var totalBytes = 0
        var droppedBytes = 0
        var lastDroppedID: UInt64 = 0
        var live: ArraySlice<Chunk> { chunks[head...] }
    }

    public let capacity: Int
    private var rings = [Ring(), Ring()]
    private(set) var nextID: UInt64 = 1
    public private(set) var exit: (id: UInt64, status: ExecExit)?

    public init(capacity: Int) {
        self.capacity = max(capacity, 1024)
    }

    public func totalBytes(_ stream: ExecStream) -> Int { rings[stream.rawValue].totalBytes }
    public func droppedBytes(_ stream: ExecStream) -> Int { rings[stream.rawValue].droppedBytes }
    /// The id of the newest event.
    public var lastID: UInt64 { nextID - 1 }

    /// Appends a chunk (empty chunks are ignored); drops the stream's oldest chunks past the capacity.
    public mutating func append(_ stream: ExecStream, _ bytes: [UInt8]) {
        guard !bytes.isEmpty, exit == nil else { return }
        // In place (inout on the element): copying the ring out would copy its chunk array on every append.
        Self.append(bytes, id: nextID, to: &rings[stream.rawValue], capacity: capacity)
        nextID += 1
    }

    private static func append(_ bytes: [UInt8], id: UInt64, to ring: inout Ring, capacity: Int) {
        var kept = bytes
        if kept.count > capacity {
            let cut = kept.count - capacity
            kept = Array(kept[cut...])
            ring.droppedBytes += cut
            ring.lastDroppedID = id
        }
        let chunk = Chunk(id: id, offset: ring.totalBytes + (bytes.count - kept.count), bytes: kept)
        ring.totalBytes += bytes.count
        ring.chunks.append(chunk)
        ring.charged += chunk.charge
        while ring.charged > capacity, ring.head < ring.chunks.count - 1 {
            let old = ring.chunks[ring.head]
            ring.charged -= old.charge
            ring.droppedBytes += old.bytes.count
            ring.lastDroppedID = old.id
            ring.chunks[ring.head].bytes = []  // free the bytes now, not at the next compaction
            ring.head += 1
        }
        if ring.head > 1024, ring.head * 2 > ring.chunks.count {
            ring.chunks.removeFirst(ring.head)
            ring.head = 0
        }
    }

    /// Records the end; no output is accepted after it.
    public mutating func finish(_ status: ExecExit) {
        guard exit == nil else { return }
        exit = (nextID, status)
        nextID += 1
    }

    /// A cursor that resumes after event `lastEventID` (SSE `Last-Event-ID`). When that event was already
    /// dropped, the dropped marker it gets reports every byte dropped so far (an upper bound).
    public func cursor(after lastEventID: UInt64) -> ExecCursor {
        var cursor = ExecCursor()
        cursor.lastID = min(lastEventID, lastID)
        for stream in ExecStream.allCases {
            let ring = rings[stream.rawValue]
            if lastEventID < ring.lastDroppedID {
                cursor.seen[stream.rawValue] = 0
            } else {
                cursor.seen[stream.rawValue] = ring.live.first { $0.id > lastEventID }?.offset ?? ring.totalBytes
            }
        }
        if let exit, lastEventID >= exit.id { cursor.finished = true }
        return cursor
    }

    /// The events after `cursor`, in id order, up to about `limit` bytes of output; advances the cursor.
    public func read(_ cursor: inout ExecCursor, limit: Int) -> [ExecEvent] {
        guard !cursor.finished else { return [] }
        var events: [ExecEvent] = []
        var positions = [0, 0]
        for stream in ExecStream.allCases {
            let ring = rings[stream.rawValue]
            let index = firstIndex(in: ring, after: cursor.lastID)
            positions[stream.rawValue] = index
            let nextOffset = index < ring.chunks.count ? ring.chunks[index].offset : ring.totalBytes
            let missed = nextOffset - cursor.seen[stream.rawValue]
            if missed > 0 { events.append(.dropped(stream: stream, bytes: missed)) }
            cursor.seen[stream.rawValue] = max(cursor.seen[stream.rawValue], nextOffset)
        }
        var budget = limit
        while budget > 0 {
            var best: (stream: ExecStream, chunk: Chunk)?
            for stream in ExecStream.allCases {
                let ring = rings[stream.rawValue], index = positions[stream.rawValue]
                guard index < ring.chunks.count else { continue }
                if best == nil || ring.chunks[index].id < best!.chunk.id { best = (stream, ring.chunks[index]) }
            }
            guard let (stream, next) = best else { break }
            events.append(.output(id: next.id, stream: stream, bytes: next.bytes))
            positions[stream.rawValue] += 1
            cursor.lastID = next.id
            cursor.seen[stream.rawValue] = next.offset + next.bytes.count
            budget -= next.bytes.count
        }
        let drained = ExecStream.allCases.allSatisfy { positions[$0.rawValue] >= rings[$0.rawValue].chunks.count }
        if drained, let exit, exit.id > cursor.lastID {
            events.append(.exit(id: exit.id, exit.status))
            cursor.lastID = exit.id
            cursor.finished = true
        }
        return events
    }

    /// Index of the first held chunk with an id above `id` (binary search; ids grow).
    private func firstIndex(in ring: Ring, after id: UInt64) -> Int {
        var low = ring.head, high = ring.chunks.count
        while low < high {
            let middle = (low + high) / 2
            if ring.chunks[middle].id <= id { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
