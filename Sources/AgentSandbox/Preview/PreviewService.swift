import Foundation
import SandboxKernel

/// Previews of the servers an agent runs: connections to a port inside the agent's network namespace,
/// the list of its listening ports, and public links (`/p/{token}/…`) that open one port to anyone
/// holding the token until it expires or is revoked.
///
/// Only `isolated` agents have previews: their namespace has its own loopback, reached through a
/// socket made inside it (`NamespaceSocket`), so a dev server bound to `127.0.0.1` works. A `host`
/// agent's ports are the host's own — proxying there would open the host's loopback services to API
/// callers and link holders — and a `none` agent's servers are reachable by nothing; both are refused
/// with `PREVIEW_UNAVAILABLE` (409).
///
/// ```swift
/// let link = try await services.previews.createLink(agent: agent, port: 3000, expiresIn: 3600)
/// link.url  // "http://127.0.0.1:8080/p/<48 hex>/"
/// ```
public struct PreviewService: Sendable {
    let store: any SandboxStore
    let configuration: ServerConfiguration
    let networks: AgentNetworks?

    /// Default and largest link lifetime, seconds (those of shares).
    public static let defaultLifetime = ShareService.defaultLifetime
    public static let maxLifetime = ShareService.maxLifetime

    public init(store: any SandboxStore, configuration: ServerConfiguration, networks: AgentNetworks?) {
        self.store = store
        self.configuration = configuration
        self.networks = networks
    }

    /// A link as created: its token is shown once, here; the store keeps only its hash.
    public struct CreatedLink: Sendable {
        public let token: String
        public let record: PreviewLinkRecord
        public let url: String
        /// `{token}.{preview domain}` when `--preview-domain` is set: the app at `/`.
        public let hostURL: String?
    }

    /// The agent's namespace file and address (created if the agent has run nothing yet).
    public func namespace(of agent: Agent) async throws -> NetworkAttachment {
        let mode = agent.settings.network ?? configuration.network
        switch mode {
        case .host:
            throw ToolError(.previewUnavailable, "Agent \(agent.id) runs on the host's network (network \"host\"): its ports are the host's own, so previews are refused — they would open the host's loopback services. Previews work for agents with network \"isolated\".")
        case .none:
            throw ToolError(.previewUnavailable, "Agent \(agent.id) has network \"none\": each of its commands has a private loopback that nothing, not even a preview, can reach. Previews work for agents with network \"isolated\".")
        case .isolated:
            guard let networks, let attachment = try await networks.attachment(for: agent.id.rawValue) else {
                throw ToolError(.previewUnavailable, "This server cannot give agents their own network namespace (it needs root, ip, nft and unshare; see its start-up log), so agent \(agent.id) runs with loopback only and has no previews.")
            }
            return attachment
        }
    }

    /// A connected, non-blocking socket to `port` in the agent's namespace; `UPSTREAM_UNAVAILABLE`
    /// (502) at once when nothing listens there.
    public func connect(agent: Agent, port: Int) async throws -> Int32 {
        let attachment = try await namespace(of: agent)
        do {
            return try await BlockingWork.run { try NamespaceSocket.connect(namespace: attachment.namespacePath, port: port, agentAddress: attachment.address) }
        } catch let error as SystemCallError where error.errno == ECONNREFUSED {
            throw ToolError(.upstreamUnavailable, "Nothing listens on port \(port) in agent \(agent.id)'s network. Start the server (bound to 127.0.0.1 or 0.0.0.0), e.g. as a background exec session, and check GET /v1/agents/\(agent.id)/ports.")
        } catch let error as SystemCallError {
            throw ToolError(.upstreamUnavailable, "Could not connect to port \(port) in agent \(agent.id)'s network. Check that its server is running and accepts connections (GET /v1/agents/\(agent.id)/ports), then retry (\(String(cString: strerror(error.errno)).lowercased()), errno \(error.errno)).")
        }
    }

    /// The TCP ports something listens on in the agent's namespace.
    public func listening(agent: Agent) async throws -> [ListeningSocket] {
        let attachment = try await namespace(of: agent)
        return try await BlockingWork.run { try ListeningSocket.read(namespace: attachment.namespacePath) }
    }

    /// A new public link to `port` of `agent`, live for `expiresIn` seconds (default 7 days, at most 30).
    public func createLink(agent: Agent, port: Int, expiresIn: Int?) async throws -> CreatedLink {
        _ = try await namespace(of: agent)
        let token = Self.newToken()
        let now = Date()
        let lifetime = min(max(expiresIn ?? Self.defaultLifetime, 1), Self.maxLifetime)
        let record = PreviewLinkRecord(
            id: Self.id(of: token), agentId: agent.id.rawValue, port: port, createdAt: now,
            expiresAt: now.addingTimeInterval(Double(lifetime)), revokedAt: nil)
        try await store.insertPreviewLink(record)
        return CreatedLink(token: token, record: record, url: "\(configuration.shareBaseURL)/p/\(token)/", hostURL: hostURL(token: token))
    }

    /// The live link behind `token` (nil when unknown, expired or revoked).
    public func link(token: String) async throws -> PreviewLinkRecord? {
        guard Self.isWellFormed(token), let record = try await store.previewLink(id: Self.id(of: token)), record.isLive() else { return nil }
        return record
    }

    /// Revokes the agent's link given by its token (or its id, the token's SHA-256); false when the
    /// agent has no such live link.
    public func revokeLink(_ tokenOrID: String, agent: AgentID) async throws -> Bool {
        let id = Self.isWellFormed(tokenOrID) ? Self.id(of: tokenOrID) : tokenOrID.lowercased()
        return try await store.revokePreviewLink(id: id, agent: agent.rawValue, at: Date())
    }

    /// The agent's live links.
    public func links(agent: AgentID) async throws -> [PreviewLinkRecord] {
        try await store.livePreviewLinks(agent: agent.rawValue, at: Date())
    }

    private func hostURL(token: String) -> String? {
        guard let domain = configuration.previewDomain else { return nil }
        let scheme = configuration.shareBaseURL.hasPrefix("https:") ? "https" : "http"
        return "\(scheme)://\(token).\(domain)/"
    }

    /// 192 random bits as 48 lower-case hex digits: one DNS label, so a token can be a host name too.
    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<3).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    public static func isWellFormed(_ token: String) -> Bool {
        token.utf8.count == 48 && token.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    static func id(of token: String) -> String { SHA256Hasher.hex(token) }
}
