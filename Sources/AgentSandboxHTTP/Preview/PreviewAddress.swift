import AgentSandbox
import HTTPTypes

/// Which agent port a request is for, and how it was addressed — parsed from the request target (and
/// `Host`) alone, so the HTTP routes, the preview-domain middleware and the WebSocket upgrade agree:
///
/// - `/v1/agents/{id}/ports/{port}/rest…` — the API key's form (`.api`);
/// - `/p/{token}/rest…` — a public link (`.link`);
/// - `{port}-{id}.{domain}/rest…` (API key) and `{token}.{domain}/rest…` (link) with `--preview-domain`:
///   the app lives at `/`.
struct PreviewAddress: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case api(agent: String, port: String)
        case link(token: String)
    }

    let kind: Kind
    /// The path prefix the proxy strips (`X-Forwarded-Prefix`); "" for host-based routing.
    let prefix: String
    /// What the upstream gets: `/rest…?query` (at least `/`).
    let pathAndQuery: String
    /// The request named the port or link with nothing after it (`/p/{token}`): a browser needs the
    /// trailing slash for relative links, so `GET` is redirected there.
    let bare: Bool

    /// The address in a path-form request target, or nil when it is not a preview path. `/ports/{port}/link`
    /// (and below it) is the links API, not the app's path.
    static func parse(target: String) -> PreviewAddress? {
        let (path, query) = split(target)
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        if segments.count >= 5, segments[0] == "v1", segments[1] == "agents", segments[3] == "ports" {
            if segments.count >= 6, segments[5] == "link" { return nil }
            let prefix = "/" + segments[0..<5].joined(separator: "/")
            return PreviewAddress(kind: .api(agent: String(segments[2]), port: String(segments[4])), prefix: prefix,
                pathAndQuery: rest(of: path, after: 5) + String(query), bare: segments.count == 5 && !path.hasSuffix("/"))
        }
        if segments.count >= 2, segments[0] == "p" {
            return PreviewAddress(kind: .link(token: String(segments[1])), prefix: "/p/\(segments[1])",
                pathAndQuery: rest(of: path, after: 2) + String(query), bare: segments.count == 2 && !path.hasSuffix("/"))
        }
        return nil
    }

    /// The address of a request to a host under the preview domain, or nil for any other host.
    static func parse(host: String?, target: String, domain: String?) -> PreviewAddress? {
        guard let domain, let host else { return nil }
        let name = (host.split(separator: ":").first.map(String.init) ?? host).lowercased()
        guard name.hasSuffix("." + domain.lowercased()) else { return nil }
        let label = String(name.dropLast(domain.count + 1))
        let pathAndQuery = target.hasPrefix("/") ? target : "/"
        if PreviewService.isWellFormed(label) {
            return PreviewAddress(kind: .link(token: label), prefix: "", pathAndQuery: pathAndQuery, bare: false)
        }
        guard let dash = label.firstIndex(of: "-") else { return nil }
        return PreviewAddress(kind: .api(agent: String(label[label.index(after: dash)...]), port: String(label[..<dash])), prefix: "", pathAndQuery: pathAndQuery, bare: false)
    }

    /// `1...65535`, or a 400 naming the field.
    static func port(_ text: String) throws -> Int {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw ToolError.invalidField("port", "must be an integer from 1 to 65535 (the agent's TCP port); got '\(text.prefix(20))'.")
        }
        return port
    }

    private static func split(_ target: String) -> (path: Substring, query: Substring) {
        guard let mark = target.firstIndex(of: "?") else { return (target[...], "") }
        return (target[..<mark], target[mark...])
    }

    /// The path after its first `count` non-empty segments, as sent (percent-encoding kept); `/` at least.
    private static func rest(of path: Substring, after count: Int) -> String {
        var index = path.startIndex, seen = 0
        while index < path.endIndex, seen < count {
            while index < path.endIndex, path[index] == "/" { index = path.index(after: index) }
            while index < path.endIndex, path[index] != "/" { index = path.index(after: index) }
            seen += 1
        }
        let rest = path[index...]
        return rest.isEmpty ? "/" : String(rest)
    }
}
