/// The non-empty `/`-separated segments of a request path, as slices of it — no array, no copies —
/// for the checks every request passes (authentication, the listener's precheck). Empty segments are
/// skipped as the router skips them (`//v1/agents` is `/v1/agents`).
///
///     var segments = PathSegments("/v1/agents/a1/archive")
///     segments.next()  // "v1"
struct PathSegments: Sequence, IteratorProtocol {
    private let path: Substring
    /// Where the search for the next segment starts, in UTF-8 bytes from the path's start.
    private var offset = 0

    init(_ path: Substring) {
        self.path = path
    }

    init(_ path: String) {
        self.init(path[...])
    }

    /// The path of a request target: everything before its `?`.
    static func path(of target: String) -> Substring {
        target.utf8.firstIndex(of: UInt8(ascii: "?")).map { target[..<$0] } ?? target[...]
    }

    /// Scans the path's bytes in place (walking `Substring` indices cost ~0.3 µs a request path).
    mutating func next() -> Substring? {
        let start = offset
        let bounds = path.utf8.withContiguousStorageIfAvailable { Self.segment(in: $0, from: start) }
            ?? Array(path.utf8).withUnsafeBufferPointer { Self.segment(in: $0, from: start) }
        guard let bounds else {
            offset = path.utf8.count
            return nil
        }
        offset = bounds.upperBound
        let utf8 = path.utf8
        let lower = utf8.index(utf8.startIndex, offsetBy: bounds.lowerBound)
        return path[lower..<utf8.index(lower, offsetBy: bounds.count)]
    }

    /// The byte range of the first segment at or after `start`.
    private static func segment(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Range<Int>? {
        let slash = UInt8(ascii: "/")
        var lower = start
        while lower < bytes.count, bytes[lower] == slash { lower += 1 }
        guard lower < bytes.count else { return nil }
        var upper = lower
        while upper < bytes.count, bytes[upper] != slash { upper += 1 }
        return lower..<upper
    }
}
