import AgentSandbox
import Hummingbird

/// `POST /v1/agents/{agent_id}/cwd` `{path}`: the agent's persistent working directory, where an exec
/// without `cwd` starts (REST exec and the seed APIs' shapes). Answers the agent's record, which shows it
/// as `cwd`. An adapter onto `ExecService.setWorkingDirectory`.
struct AgentSettingsRoutes: Sendable {
    let exec: ExecService

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/agents/:agent_id/cwd") { request, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            let input = try await request.jsonBody(limit: 64 << 10)
            return Response.json(try await exec.setWorkingDirectory(id, input: input, entry: .exec))
        }
    }
}
