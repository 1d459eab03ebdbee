import AgentSandbox
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /v1/agents/{id}/move {"node"?}` at a gateway: moves an agent to another node (the named one, or
/// where rendezvous hashing places it among the others). Steps, each over the nodes' own API:
/// suspend on the source; copy its snapshots' stored archives and its shares' content (`…/cluster/snapshots/{sid}`,
/// `…/cluster/shares/{token}`: a share keeps its link, and works after the source is drained and
/// stopped); stream the workspace (`GET …/archive?format=tar`) straight into the target's
/// `PUT …/cluster/adopt?from=SOURCE`, which imports it under a uid of its own range and switches the
/// owner in one transaction (`SELECT … FOR UPDATE`); the target resumes the agent and the source then
/// drops its copy (`POST …/cluster/release`). Settings, modes, files, snapshots and shares travel;
/// the id stays. Calls for the agent through this gateway wait for the move (up to `MoveGuard.wait`),
/// then get 409 `AGENT_MOVING` with `Retry-After`; elsewhere the suspended source answers 409 until the
/// owner switches, then the target answers.
struct GatewayMove: Sendable {
    let catalog: AgentCatalog
    let forwarder: GatewayForwarder
    let guardian: MoveGuard

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/agents/:agent_id/move") { request, context in
            let reference = try ClusterAgentReference(context.parameters.get("agent_id") ?? "")
            let body = try await request.jsonBody(limit: 64 << 10, emptyIsObject: true)
            var named: String?
            switch body["node"] {
            case nil, .null?: named = nil
            case .string(let text)?: named = text
            default: throw ToolError.invalidField("node", "must be a node name (see GET /v1/nodes).")
            }
            return try await move(reference.agent, to: named, request: request, context: context)
        }
    }

    func move(_ agent: AgentID, to named: String?, request: Request, context: some RequestContext) async throws -> Response {
        guard let source = try await catalog.locate(agent) else {
            throw ToolError(.agentNotFound, "No agent \(agent). Create it with POST /v1/agents.")
        }
        let target = try await chooseTarget(named, source: source, agent: agent)
        let started = ContinuousClock.now
        try guardian.begin(agent)
        defer { guardian.end(agent) }
        catalog.invalidate(agent)
        try await expectOK(call(request, .post, "/v1/agents/\(agent)/suspend", on: source, context: context), "suspend it on \(source.id)")
        // Until the adopt request is sent, and when the target refuses it, the owner has not switched:
        // the target then drops what it received (the snapshots' archives; shares it took over stay
        // there, and their links keep working).
        var targetMayOwn = false
        do {
            try await copy(.snapshots, of: agent, from: source, to: target, request: request, context: context)
            try await copy(.shares, of: agent, from: source, to: target, request: request, context: context)
            let archive = try await call(request, .get, "/v1/agents/\(agent)/archive?format=tar", on: source, context: context)
            try await expectOK(archive, "export its workspace from \(source.id)")
            targetMayOwn = true
            let adopted = try await relay(archive, request, .put, "/v1/agents/\(agent)/cluster/adopt?from=\(source.id)", on: target,
                                          contentType: "application/x-tar", context: context)
            targetMayOwn = adopted.status.code < 300
            try await expectOK(adopted, "import it on \(target.id)")
        } catch {
            if !targetMayOwn { _ = try? await call(request, .post, "/v1/agents/\(agent)/cluster/release", on: target, context: context) }
            _ = try? await call(request, .post, "/v1/agents/\(agent)/resume", on: source, context: context)
            throw error
        }
        catalog.remember(agent, AgentOwner(node: target.id, state: "suspended"))
        // The owner has switched: from here on the move has happened, whatever the cleanup answers. The
        // target serves the agent first; then the source drops its copy (processes, cgroup, workspace).
        let resumed = try await call(request, .post, "/v1/agents/\(agent)/resume", on: target, context: context)
        _ = try? await call(request, .post, "/v1/agents/\(agent)/cluster/release", on: source, context: context)
        try await expectOK(resumed, "resume it on \(target.id)")
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return Response.json(JSONValue.object([
            "agent_id": .string(agent.rawValue), "node": .string(target.id), "from": .string(source.id),
            "state": "active", "duration_ms": .number(milliseconds.rounded()),
        ]))
    }

    private func chooseTarget(_ named: String?, source: ClusterNode, agent: AgentID) async throws -> ClusterNode {
        guard let named else { return try await catalog.place(agent, excluding: [source.id]) }
        guard named != source.id else {
            throw ToolError(.invalidRequest, "Agent \(agent) already lives on node '\(named)'; name another node (GET /v1/nodes lists them).")
        }
        guard let node = try await catalog.node(named: named, fresh: true) else {
            throw ToolError.invalidField("node", "names no node of this cluster: '\(named.prefix(64))'. GET /v1/nodes lists them.")
        }
        guard node.isAlive(window: catalog.settings.livenessWindow) else {
            throw ToolError(.nodeUnavailable, "Node '\(named)' is not heartbeating; move the agent to a live node (GET /v1/nodes).")
        }
        return node
    }

    /// What a move copies node to node besides the workspace: the agent's snapshots (their stored
    /// archives) and its shares (their content). Rows are in the shared store; the bytes live on the
    /// node that made them.
    struct Carried: Sendable {
        /// The listing route under `/v1/agents/{id}/`, the array it answers, and each item's id field.
        let listing: String, field: String, id: String
        let contentType: String
        /// A share whose content is not on the source (published elsewhere) stays where it is.
        let skipsMissing: Bool

        static let snapshots = Carried(listing: "snapshots", field: "snapshots", id: "snapshot_id", contentType: "application/zstd", skipsMissing: false)
        static let shares = Carried(listing: "shares", field: "shares", id: "token", contentType: "application/octet-stream", skipsMissing: true)
    }

    /// Copies the stored bytes of each of the agent's `carried` items from `source` to `target`, one at
    /// a time (`GET`/`PUT /v1/agents/{id}/cluster/{listing}/{item}`).
    private func copy(_ carried: Carried, of agent: AgentID, from source: ClusterNode, to target: ClusterNode, request: Request, context: some RequestContext) async throws {
        let listing = try await call(request, .get, "/v1/agents/\(agent)/\(carried.listing)", on: source, context: context)
        try await expectOK(listing, "list its \(carried.listing) on \(source.id)")
        let data = try await CollectingBodyWriter.collect(listing.body, limit: 16 << 20)
        guard case .array(let items)? = try JSONCoding.parseBody(bytes: data.readableBytesView)[carried.field] else { return }
        for case .object(let item) in items {
            guard case .string(let id)? = item[carried.id] else { continue }
            let path = "/v1/agents/\(agent)/cluster/\(carried.listing)/\(id)"
            let blob = try await call(request, .get, path, on: source, context: context)
            if carried.skipsMissing, blob.status == .notFound {
                _ = try? await CollectingBodyWriter.collect(blob.body, limit: 64 << 10)
                continue
            }
            try await expectOK(blob, "read \(carried.id) \(id) on \(source.id)")
            let stored = try await relay(blob, request, .put, path, on: target, contentType: carried.contentType, context: context)
            try await expectOK(stored, "copy \(carried.id) \(id) to \(target.id)")
        }
    }

    /// Streams `response`'s body (from one node) as the body of a request to `node`.
    private func relay(_ response: Response, _ original: Request, _ method: HTTPRequest.Method, _ path: String, on node: ClusterNode,
                       contentType: String, context: some RequestContext) async throws -> Response {
        let (upload, feed) = RequestBody.makeStream()
        let pump = Task {
            do {
                try await response.body.write(PipeBodyWriter(source: feed))
            } catch {
                feed.finish(error)
            }
        }
        defer { pump.cancel() }
        return try await call(original, method, path, on: node, body: upload, contentType: contentType, context: context)
    }

    /// One request of the move to `node`, carrying the client's credentials.
    private func call(_ original: Request, _ method: HTTPRequest.Method, _ path: String, on node: ClusterNode,
                      body: RequestBody = .init(buffer: ByteBuffer()), contentType: String? = nil, context: some RequestContext) async throws -> Response {
        var head = HTTPRequest(method: method, scheme: "http", authority: original.head.authority, path: path)
        for name in [HTTPField.Name.authorization, HTTPField.Name("x-api-key")!, HTTPField.Name("x-request-id")!] {
            if let value = original.headers[name] { head.headerFields[name] = value }
        }
        if let contentType { head.headerFields[.contentType] = contentType } else { head.headerFields[.contentLength] = "0" }
        // Only the archive's upload streams (it has a content type); the other steps have empty bodies.
        return try await forwarder.proxy.forward(Request(head: head, body: body), to: node, path: path, replayable: contentType == nil, context: context)
    }

    private func expectOK(_ response: Response, _ step: String) async throws {
        guard response.status.code >= 300 else { return }
        let text = (try? await CollectingBodyWriter.collect(response.body, limit: 64 << 10)).map { String(buffer: $0) } ?? ""
        let reason = (try? JSONCoding.parseBody(bytes: Array(text.utf8)))?["error"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? text.prefix(300).description
        throw ToolError(response.status.code == 409 ? .agentMoving : .internalError, "The move could not \(step) (HTTP \(response.status.code)): \(reason)")
    }
}

/// Writes a response body into a request body's stream (the archive from one node into the upload to another).
struct PipeBodyWriter: ResponseBodyWriter {
    let source: RequestBody.Source

    mutating func write(_ buffer: ByteBuffer) async throws { await source.yield(buffer) }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws { source.finish() }
}
