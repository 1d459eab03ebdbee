import AgentSandbox
import Foundation
import Hummingbird

/// `/v1/agents`: create (or fork: `fork_of` / `from_snapshot`, see `ForkService`), list, inspect,
/// delete, suspend, resume.
struct AgentRoutes: Sendable {
    let agents: AgentRegistry
    let forks: ForkService

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/agents") { request, _ in
            let body = try await request.jsonBody(limit: 64 << 10, emptyIsObject: true)
            var requested: AgentID?
            switch body["agent_id"] {
            case nil, .null?: requested = nil
            case .string(let text)?: requested = try AgentID(text)
            default: throw ToolError.invalidField("agent_id", "must be a string holding a UUID.")
            }
            let settings = try AgentSettings.parse(body)
            if let source = try Self.forkSource(body) {
                let agent = try await forks.fork(source, as: requested, overrides: settings)
                return Response.json(agent.json(), status: .created)
            }
            let (agent, created) = try await agents.create(requested, settings: settings)
            return Response.json(agent.json(), status: created ? .created : .ok)
        }
        router.get("/v1/agents") { _, _ in
            let list = try await agents.list()
            return Response.json(JSONValue.object(["agents": .array(list.map { $0.json() })]))
        }
        router.get("/v1/agents/:agent_id") { _, context in
            let agent = try await agents.inspect(try AgentID(context.parameters.get("agent_id") ?? ""))
            return Response.json(agent.json(storage: try await agents.storage(of: agent)))
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

    /// `fork_of` (an agent id) or `from_snapshot` (a snapshot id), at most one; nil for a plain create.
    static func forkSource(_ body: JSONValue) throws(ToolError) -> ForkService.Source? {
        func text(_ key: String) throws(ToolError) -> String? {
            switch body[key] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            default: throw ToolError.invalidField(key, "must be a string holding an id.")
            }
        }
        switch (try text("fork_of"), try text("from_snapshot")) {
        case (nil, nil): return nil
        case (let agent?, nil): return .agent(try AgentID(agent))
        case (nil, let snapshot?): return .snapshot(snapshot)
        default: throw ToolError.invalidField("fork_of", "and `from_snapshot` cannot both be given: fork an agent's current workspace or one snapshot.")
        }
    }
}
