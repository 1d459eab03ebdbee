import AgentSandbox
import Foundation
import HTTPTypes
import Hummingbird
import MCP

/// `POST|GET|DELETE /v1/agents/{agent_id}/mcp`: MCP Streamable HTTP for one agent, bridged from
/// Hummingbird onto one `MCPSessionTransport` and one SDK `Server` per session. `AuthMiddleware` has
/// already checked the API key (`x-api-key` or `Authorization: Bearer`).
///
/// - `initialize` without `Mcp-Session-Id` opens a session (the id comes back in that header); every
///   other request names its session, which must belong to the agent in the path (else 404).
/// - A request is answered with one JSON body, or as an SSE stream when it carries a `progressToken`
///   (its progress notifications, then the reply); `GET` opens the session's stream for other server
///   messages; `DELETE` ends the session.
/// - The newer stateless handshake (`server/discover`, protocol 2026) is not in SDK 0.12.1: it is
///   answered with a JSON-RPC "method not found" error, from which clients fall back to `initialize`.
struct MCPRoutes: Sendable {
    let port: MCPCallPort
    let catalog: MCPToolCatalog
    let sessions = MCPSessions()
    let publicURL: String
    let bodyLimit: Int

    init(pipeline: CallPipeline, exec: ExecService, bodyLimit: Int) throws {
        port = MCPCallPort(pipeline: pipeline, exec: exec)
        catalog = try MCPToolCatalog(port: port)
        publicURL = pipeline.configuration.effectivePublicURL
        self.bodyLimit = bodyLimit
    }

    func addRoutes(to router: Router<some Hummingbird.RequestContext>) {
        let path = RouterPath("/v1/agents/:agent_id/mcp")
        router.post(path) { request, context in try await handle(request, agent: context.parameters.get("agent_id") ?? "") }
        router.get(path) { request, context in try await handle(request, agent: context.parameters.get("agent_id") ?? "") }
        router.delete(path) { request, context in try await handle(request, agent: context.parameters.get("agent_id") ?? "") }
    }

    func handle(_ request: Hummingbird.Request, agent rawAgent: String) async throws -> Hummingbird.Response {
        let agent = try AgentID(rawAgent)
        let body = request.method == .post ? try await request.collectBody(limit: bodyLimit) : nil
        let message = MCP.HTTPRequest(method: request.method.rawValue, headers: Self.headers(of: request), body: body, path: request.uri.path)
        if let id = message.header(HTTPHeaderName.sessionID) {
            guard let transport = sessions.transport(id, agent: agent) else {
                return Self.error(404, code: -32001, "Session not found: it ended, expired or belongs to another agent. Start a new one with initialize.")
            }
            let reply = await transport.handle(message)
            if request.method == .delete, reply.statusCode < 300 { await sessions.remove(id) }
            return Self.response(reply)
        }
        guard request.method == .post, let body else {
            return Self.error(400, code: -32600, "Missing Mcp-Session-Id header: open a session with a POST initialize request first.")
        }
        guard let (method, id) = Self.methodAndID(body) else {
            return Self.error(400, code: -32700, "Parse error: the body must be one JSON-RPC message, a JSON object (batches are not accepted).")
        }
        switch method {
        case "initialize":
            return try await open(message, agent: agent)
        case "server/discover":
            return Self.error(200, code: -32601, "Method not found: server/discover. This server speaks the initialize handshake (protocol \(Version.latest)).", id: id)
        default:
            return Self.error(400, code: -32600, "Missing Mcp-Session-Id header: open a session with a POST initialize request first.", id: id)
        }
    }

    /// A new session for `agent`, admitted by the pipeline (created on first use when implicit creation
    /// is on; a suspended or deleted agent's refusal goes back as the envelope with its status).
    private func open(_ message: MCP.HTTPRequest, agent: AgentID) async throws -> Hummingbird.Response {
        try await port.openSession(agent: agent)
        let id = (0..<4).map { _ in String(format: "%08x", UInt32.random(in: .min ... .max)) }.joined()  // 128 random bits
        let transport = MCPSessionTransport(sessionID: id, validation: MCPOriginValidator.pipeline(publicURL: publicURL))
        let server = await MCPAgentServer.make(agent: agent, port: port, catalog: catalog)
        try await server.start(transport: transport)
        let reply = await transport.handle(message, initialize: true)
        if reply.statusCode == 200 {
            await sessions.insert(id, MCPSessions.Entry(agent: agent, transport: transport, server: server, lastUsed: .now))
        } else {
            await server.stop()
        }
        return Self.response(reply)
    }
}
