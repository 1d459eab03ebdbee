/// Keeps at most `limit` bytes of a stream: the first half and the last half, counting what it drops.
///
/// Rendering inserts a visible `[... N bytes truncated ...]` marker where bytes were dropped and
/// replaces invalid UTF-8, so a flood of output costs bounded memory and never breaks encoding.
public struct OutputCollector: Sendable {
    public let limit: Int
    private var head: [UInt8] = []
    private var tail: [UInt8] = []
    private var tailStart = 0
    public private(set) var totalBytes = 0

    public init(limit: Int) {
        self.limit = max(limit, 2)
        head.reserveCapacity(min(self.limit / 2, 64 << 10))
    }

    private var headLimit: Int { limit / 2 }
    private var tailLimit: Int { limit - headLimit }

    /// Whether bytes have been dropped.
    public var truncated: Bool { totalBytes > limit }
    public var droppedBytes: Int { max(0, totalBytes - head.count - tail.count) }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        totalBytes += bytes.count
        var rest = bytes[...]
        if head.count < headLimit {
            let take = min(headLimit - head.count, rest.count)
            head.append(contentsOf: rest.prefix(take))
            rest = rest.dropFirst(take)
        }
        guard !rest.isEmpty else { return }
        if rest.count >= tailLimit {
            tail = Array(rest.suffix(tailLimit))
            tailStart = 0
            return
        }
        if tail.count < tailLimit {
            let room = tailLimit - tail.count
            tail.append(contentsOf: rest.prefix(room))
            rest = rest.dropFirst(room)
        }
        // The tail is full: overwrite it as a ring, in at most two bulk copies.
        while !rest.isEmpty {
            let run = min(tailLimit - tailStart, rest.count)
            tail.withUnsafeMutableBytes { target in
                let source = UnsafeRawBufferPointer(rebasing: rest.prefix(run))
                target.baseAddress!.advanced(by: tailStart).copyMemory(from: source.baseAddress!, byteCount: run)
            }
            tailStart = (tailStart + run) % tailLimit
            rest = rest.dropFirst(run)
        }
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The kept bytes in order, with the truncation marker between head and tail.
    public func render() -> String {
        let orderedTail = Array(tail[tailStart...] + tail[..<tailStart])
        if droppedBytes == 0 { return String(decoding: head + orderedTail, as: UTF8.self) }
        return String(decoding: head, as: UTF8.self) + "\n[... \(droppedBytes) bytes truncated ...]\n"
            + String(decoding: orderedTail, as: UTF8.self)
    }
}
