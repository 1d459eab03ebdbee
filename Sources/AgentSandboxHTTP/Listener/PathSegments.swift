/// The non-empty `/`-separated segments of a request path, as slices of it — no array, no copies —
/// for the checks every request passes (authentication, the listener's precheck). Empty segments are
/// skipped as the router skips them (`//v1/agents` is `/v1/agents`).
///
///     var segments = PathSegments("/v1/agents/a1/archive")
///     segments.next()  // "v1"
struct PathSegments: Sequence, IteratorProtocol {
    private let path: Substring
    private var position: Substring.Index

    init(_ path: Substring) {
        self.path = path
        position = path.startIndex
    }

    init(_ path: String) {
        self.init(path[...])
    }

    /// The path of a request target: everything before its `?`.
    static func path(of target: String) -> Substring {
        target.utf8.firstIndex(of: UInt8(ascii: "?")).map { target[..<$0] } ?? target[...]
    }

    mutating func next() -> Substring? {
        let bytes = path.utf8, slash = UInt8(ascii: "/")
        var start = position
        while start < bytes.endIndex, bytes[start] == slash { start = bytes.index(after: start) }
        guard start < bytes.endIndex else { return nil }
        var end = start
        while end < bytes.endIndex, bytes[end] != slash { end = bytes.index(after: end) }
        position = end
        return path[start..<end]
    }
}
