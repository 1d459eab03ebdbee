import AgentSandbox
import Hummingbird

/// `PATCH /v1/agents/{agent_id}` `{"limits": {"disk_bytes": N, "pids_max": N, ...}}`: changes the agent's
/// limits live and answers its record (as `GET /v1/agents/{id}` does, with disk use and cap). An adapter
/// onto `AgentLimitsUpdate`.
struct AgentLimitsRoutes: Sendable {
    let update: AgentLimitsUpdate
    let agents: AgentRegistry

    func addRoutes(to router: Router<some RequestContext>) {
        router.patch("/v1/agents/:agent_id") { request, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            let body = try await request.jsonBody(limit: 64 << 10, emptyIsObject: true)
            let agent = try await update.apply(id, body: body)
            return Response.json(agent.json(storage: try await agents.storage(of: agent)))
        }
    }
}
