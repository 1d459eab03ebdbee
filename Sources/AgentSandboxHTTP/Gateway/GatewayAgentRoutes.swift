import AgentSandbox
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The gateway's own handling of `POST /v1/agents` and `GET /v1/agents`.
///
/// Create: the id is fixed here (the client's, canonicalised, or a new UUID) so that rendezvous hashing
/// can place the agent, then the small body is forwarded to that node with `agent_id` filled in. An id
/// that already has an owner goes to that owner (which answers as a single node does); a fork goes to
/// the node of the agent it copies (or whose snapshot it starts from). Two creates of one id racing through two gateways meet in the
/// shared store, where exactly one wins.
///
/// List: each live node lists its own agents; the gateway merges them (sorted by `created_at`).
struct GatewayAgentRoutes: Sendable {
    let catalog: AgentCatalog
    let forwarder: GatewayForwarder

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/agents") { request, context in
            let body = try await request.jsonBody(limit: 64 << 10, emptyIsObject: true)
            guard case .object(var fields) = body else {
                throw ToolError(.invalidRequest, "The request body must be a JSON object such as {\"agent_id\": \"…\"} or {}.")
            }
            let agent: AgentID
            switch fields["agent_id"] {
            case nil, .null?: agent = .random()
            case .string(let text)?: agent = try ClusterAgentReference(text).agent
            default: throw ToolError.invalidField("agent_id", "must be a string holding a UUID.")
            }
            fields["agent_id"] = .string(agent.rawValue)
            let node = try await catalog.locateOrPlace(Self.placementKey(agent, fields: &fields, catalog: catalog))
            let bytes = try JSONEncoder().encode(JSONValue.object(fields))
            var head = request.head
            head.headerFields[.contentLength] = String(bytes.count)
            head.headerFields[.contentType] = "application/json"
            let forwarded = Request(head: head, body: .init(buffer: ByteBuffer(bytes: bytes)))
            let response = try await forwarder.send(forwarded, to: node, path: "/v1/agents", agent: agent, context: context)
            if response.status.code < 300 { catalog.remember(agent, AgentOwner(node: node.id, state: "active")) }
            return response
        }
        router.get("/v1/agents") { request, context in
            let nodes = try await catalog.nodes(fresh: true).filter { $0.isAlive(window: catalog.settings.livenessWindow) }
            var agents: [JSONValue] = []
            for node in nodes {
                // A request of its own per node: a request body can be read once.
                let listing = Request(head: request.head, body: .init(buffer: ByteBuffer()))
                let response = try await forwarder.send(listing, to: node, path: "/v1/agents", agent: nil, context: context)
                guard response.status == .ok else { return response }
                let data = try await CollectingBodyWriter.collect(response.body, limit: 256 << 20)
                if case .object(let object) = try JSONCoding.parseBody(bytes: data.readableBytesView), case .array(let list)? = object["agents"] {
                    agents += list
                }
            }
            agents.sort { Self.createdAt($0) < Self.createdAt($1) }
            return Response.json(JSONValue.object(["agents": .array(agents)]))
        }
    }

    /// Whose node a create goes to: a fork's source agent (`fork_of`, or the agent `from_snapshot`'s
    /// snapshot belongs to: its blob lives on that agent's node), else the new agent itself. A source id
    /// given as `{node}.{uuid}` is canonicalised in `fields`; one the gateway cannot read is left for the
    /// node to refuse with its own sentence.
    static func placementKey(_ agent: AgentID, fields: inout [String: JSONValue], catalog: AgentCatalog) async throws -> AgentID {
        if case .string(let source)? = fields["fork_of"], let reference = try? ClusterAgentReference(source) {
            fields["fork_of"] = .string(reference.agent.rawValue)
            return reference.agent
        }
        if case .string(let snapshot)? = fields["from_snapshot"], let owner = try await catalog.directory.snapshotAgent(id: snapshot) {
            return owner
        }
        return agent
    }

    static func createdAt(_ agent: JSONValue) -> String {
        if case .object(let fields) = agent, case .string(let text)? = fields["created_at"] { return text }
        return ""
    }
}

/// Collects a response body (a node's small JSON answer) into one buffer, refusing past `limit`.
struct CollectingBodyWriter: ResponseBodyWriter {
    /// Where the bytes go: `finish` consumes the writer, so they live outside it.
    final class Storage: @unchecked Sendable {
        var buffer = ByteBuffer()
    }

    let storage: Storage
    let limit: Int

    mutating func write(_ part: ByteBuffer) async throws {
        guard storage.buffer.readableBytes + part.readableBytes <= limit else {
            throw ToolError(.internalError, "A node's answer was larger than \(limit) bytes.")
        }
        var part = part
        storage.buffer.writeBuffer(&part)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}

    static func collect(_ body: ResponseBody, limit: Int) async throws -> ByteBuffer {
        let storage = Storage()
        try await body.write(CollectingBodyWriter(storage: storage, limit: limit))
        return storage.buffer
    }
}
