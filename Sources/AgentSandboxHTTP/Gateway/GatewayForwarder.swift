import AgentSandbox
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Sends a request on to the node that should answer it, through the streaming reverse proxy
/// (`ReverseProxy`): request and response bodies, SSE and WebSocket upgrades pass through without being
/// collected. The agent a path names (`{node}.{uuid}` ids rewritten to the canonical UUID) goes to its
/// owner; an agent no node owns yet goes where rendezvous hashing places it (the node then creates it
/// implicitly, or answers 404 as a single node would); a share goes to the node that published it, a
/// preview link to its agent's node (an unknown token to any node, which answers 404);
/// everything else to any live node. A node that cannot be reached makes its agents' calls 503
/// `NODE_UNAVAILABLE`.
struct GatewayForwarder: Sendable {
    let catalog: AgentCatalog
    let proxy: GatewayProxy
    let moves: MoveGuard

    /// Sends `request` to the node its `destination` names (by default, the one its path names).
    func forward(_ request: Request, to destination: GatewayDestination? = nil, context: some RequestContext) async throws -> Response {
        // Held in memory when small (tool calls): such a request may be sent twice, and takes a kept-alive
        // connection; a streamed body (archive upload) is passed on as it comes, on a connection of its own.
        let held = try await Self.replayable(request)
        let request = held ?? request
        let replayable = held != nil
        switch destination ?? GatewayPath.destination(of: request.uri.string) {
        case .agent(let reference, let path):
            try await moves.waitUntilSettled(reference.agent)
            let node = try await catalog.locateOrPlace(reference.agent)
            let response = try await send(request, to: node, path: path, agent: reference.agent, replayable: replayable, context: context)
            guard replayable else { return response }
            // The cached owner was stale (another gateway moved the agent): `send` forgot it; once more to
            // the owner the store names now.
            guard response.status == .conflict, response.headers[.retryAfter] != nil,
                  let owner = try await catalog.locate(reference.agent), owner.id != node.id else { return response }
            _ = try? await CollectingBodyWriter.collect(response.body, limit: 1 << 20)
            return try await send(request, to: owner, path: path, agent: reference.agent, replayable: replayable, context: context)
        case .share(let token, let path):
            // The node that published the share holds its content (also after the agent moved on).
            var node: ClusterNode?
            if let owner = try await catalog.directory.shareOwner(token: token) { node = try await catalog.node(named: owner) }
            return try await send(request, to: orAnyNode(node, key: token), path: path, agent: nil, replayable: replayable, context: context)
        case .preview(let token, let path):
            var node: ClusterNode?
            if let agent = try await catalog.directory.previewLinkAgent(token: token) { node = try await catalog.locate(agent) }
            return try await send(request, to: orAnyNode(node, key: token), path: path, agent: nil, replayable: replayable, context: context)
        case .anyNode(let path):
            return try await send(request, to: catalog.anyLiveNode(), path: path, agent: nil, replayable: replayable, context: context)
        }
    }

    /// `node`, or (an unknown token) any live node, which answers 404 as a single box would.
    private func orAnyNode(_ node: ClusterNode?, key: String) async throws -> ClusterNode {
        if let node { return node }
        return try await catalog.anyLiveNode(key: key)
    }

    /// Bodies up to this size are held so that a call can be sent again (`replayable`).
    static let replayLimit = 1 << 20

    /// `request` with its body held in memory when it has none or a declared length up to `replayLimit`
    /// (tool calls), so that it can be sent twice; nil for streamed bodies (archive uploads, chunked).
    static func replayable(_ request: Request) async throws -> Request? {
        if request.headers[.transferEncoding] != nil { return nil }
        guard let length = request.headers[.contentLength] else {
            return Request(head: request.head, body: RequestBody(buffer: ByteBuffer()))
        }
        guard let bytes = Int(length), bytes <= replayLimit else { return nil }
        var request = request
        let body = try await request.collectBody(upTo: replayLimit)
        return Request(head: request.head, body: RequestBody(buffer: body))
    }

    /// Proxies `request` to `node` as `path`; a node that does not answer invalidates what the catalog
    /// knows and becomes `NODE_UNAVAILABLE` for the agent (502 elsewhere).
    func send(_ request: Request, to node: ClusterNode, path: String, agent: AgentID?, replayable: Bool = true, context: some RequestContext) async throws -> Response {
        do {
            let response = try await proxy.forward(request, to: node, path: path, replayable: replayable, context: context)
            // A node that no longer owns the agent (moved by another gateway) answers 409 with
            // Retry-After: the next call asks the store again.
            if let agent, response.status == .conflict, response.headers[.retryAfter] != nil { catalog.invalidate(agent) }
            return response
        } catch let error as ToolError where error.code == .upstreamUnavailable {
            proxy.forget(node)
            catalog.refreshNodes()
            guard let agent else { throw error }
            catalog.invalidate(agent)
            throw AgentCatalog.unavailable(agent: agent, node: node.id, age: node.heartbeatAge())
        }
    }
}
