import Foundation
import Hummingbird

/// `/v1/agents`: create, list, inspect, delete, suspend, resume.
struct AgentRoutes: Sendable {
    let services: SandboxServices

    func addRoutes(to router: Router<BasicRequestContext>) {
        let (agents, launcher) = (services.agents, services.launcher)
        router.post("/v1/agents") { request, _ in
            let body = try await request.jsonBody(limit: 64 << 10, emptyIsObject: true)
            var requested: AgentID?
            switch body["agent_id"] {
            case nil, .null?: requested = nil
            case .string(let text)?: requested = try AgentID(text)
            default: throw ToolError.invalidField("agent_id", "must be a string holding a UUID.")
            }
            let (agent, created) = try await agents.create(requested, settings: try AgentSettings.parse(body))
            return Response.json(agent.json(), status: created ? .created : .ok)
        }
        router.get("/v1/agents") { _, _ in
            let list = try await agents.list()
            return Response.json(JSONValue.object(["agents": .array(list.map { $0.json() })]))
        }
        router.get("/v1/agents/:agent_id") { _, context in
            let agent = try await agents.agent(try AgentID(context.parameters.get("agent_id") ?? ""))
            let path = agent.workspacePath
            let usage = try await BlockingWork.run { try DiskUsage.bytes(under: path) }
            return Response.json(agent.json(diskUsage: usage))
        }
        router.delete("/v1/agents/:agent_id") { _, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            try await agents.delete(id)
            return Response.json(JSONValue.object(["agent_id": .string(id.rawValue), "state": "deleted"]))
        }
        router.post("/v1/agents/:agent_id/suspend") { _, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            return Response.json(try await agents.setState(.suspended, of: id).json())
        }
        router.post("/v1/agents/:agent_id/resume") { _, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            return Response.json(try await agents.setState(.active, of: id).json())
        }
    }
}

/// `/healthz`, `/metrics`, `/v1/tools`.
struct MetaRoutes: Sendable {
    let services: SandboxServices
    static let healthy = ByteBuffer(string: #"{"status":"ok"}"#)

    func addRoutes(to router: Router<BasicRequestContext>) {
        // A constant: the benchmarks' ceiling is this route (scripts/bench-files), so it does no work.
        router.get("/healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: Self.healthy))
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: .init(string: services.metrics.render())))
        }
        router.get("/v1/tools") { request, _ in
            let format = request.uri.queryParameters.get("format") ?? "json-schema"
            return Response.json(JSONValue.object(["tools": try services.schemas.toolDefinitions(format: format)]))
        }
        router.get("/v1/schemas/envelope") { _, _ in Response.json(services.schemas.envelope) }
    }
}
