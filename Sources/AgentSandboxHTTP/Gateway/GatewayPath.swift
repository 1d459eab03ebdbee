import AgentSandbox

/// Where a gateway sends a request, read from its path alone: to the node that owns the agent the path
/// names (any spelling of the id, `{node}.{uuid}` included, rewritten to the canonical UUID), to the
/// node of a share or preview link, or to any live node for routes that belong to no agent.
enum GatewayDestination: Equatable {
    /// A route of one agent; `path` is the request target with the id in its canonical form.
    case agent(ClusterAgentReference, path: String)
    /// `/s/{token}/…`: the node of the share's agent.
    case share(token: String, path: String)
    /// `/p/{token}/…`: the node of the preview link's agent.
    case preview(token: String, path: String)
    /// Any live node (`/v1/tools`, `/openapi.json`, `/docs`, `/terminal`, a malformed id the node
    /// answers with its own 400, …).
    case anyNode(path: String)
}

enum GatewayPath {
    /// The destination of `target` (path and query, as the client sent it). On every proxied request:
    /// substrings cut at UTF-8 bytes (`segments`), percent-decoding only when there is a `%`, and the
    /// target passed on as it is when the id in it is already canonical.
    static func destination(of target: String) -> GatewayDestination {
        let (path, query) = split(target)
        let segments = segments(of: path)
        // segments[0] is the empty string before the leading "/".
        let index: Int?
        switch (segments.count > 1 ? segments[1] : "", segments.count > 2 ? segments[2] : "", segments.count > 3 ? segments[3] : "") {
        case ("v1", "agents", _) where segments.count > 3: index = 3
        case ("workspace", _, _) where segments.count > 2, ("sandboxes", _, _) where segments.count > 2: index = 2
        case ("api", "v1", "sandboxes") where segments.count > 4: index = 4
        case ("s", let token, _) where !token.isEmpty: return .share(token: String(token), path: target)
        case ("p", let token, _) where !token.isEmpty: return .preview(token: String(token), path: target)
        default: index = nil
        }
        guard let index else { return .anyNode(path: target) }
        let raw = segments[index]
        let text = raw.utf8.contains(UInt8(ascii: "%")) ? (String(raw).removingPercentEncoding ?? String(raw)) : String(raw)
        guard let reference = try? ClusterAgentReference(text) else { return .anyNode(path: target) }
        if raw == reference.agent.rawValue { return .agent(reference, path: target) }
        var rewritten = segments.map(String.init)
        rewritten[index] = reference.agent.rawValue
        return .agent(reference, path: rewritten.joined(separator: "/") + query)
    }

    /// `target` cut before its query (the query keeps its `?`).
    static func split(_ target: String) -> (path: String, query: String) {
        guard let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (target, "") }
        return (String(target[..<mark]), String(target[mark...]))
    }

    /// `path` cut at every `/`, empty pieces kept (as `split(separator: "/", omittingEmptySubsequences:
    /// false)`, whose `String` overload goes through the regex library's searcher: ten times slower).
    /// A `/` is one UTF-8 byte that is never part of another character, so its indices cut `path` cleanly.
    static func segments(of path: String) -> [Substring] {
        var segments: [Substring] = []
        var start = path.startIndex
        var index = path.utf8.startIndex
        while let slash = path.utf8[index...].firstIndex(of: UInt8(ascii: "/")) {
            segments.append(path[start..<slash])
            start = path.utf8.index(after: slash)
            index = start
        }
        segments.append(path[start...])
        return segments
    }
}
