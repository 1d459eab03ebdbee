import AgentSandbox
import Foundation
import Hummingbird

/// `POST /v1/agents/{id}/exec` and `GET /v1/agents/{id}/exec`: start a command (foreground: wait for it,
/// or stream it as SSE with `Accept: text/event-stream`; background: a session id at once) and list the
/// agent's sessions. An adapter onto `ExecService`.
struct ExecRoutes: Sendable {
    let exec: ExecService
    let bodyLimit: Int

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/agents/:agent_id/exec") { request, context in
            try await start(request, agentID: try AgentID(context.parameters.get("agent_id") ?? ""))
        }
        router.get("/v1/agents/:agent_id/exec") { _, context in
            Response.json(try await exec.list(try AgentID(context.parameters.get("agent_id") ?? ""), entry: .exec))
        }
        ExecSessionRoutes(exec: exec, bodyLimit: bodyLimit).addRoutes(to: router)
    }

    private func start(_ request: Request, agentID: AgentID) async throws -> Response {
        let wantsStream = request.headers[.accept]?.contains("text/event-stream") == true
        let encoding = try ExecOutputEncoding(query: request.uri.queryParameters.get("encoding"))
        let input = try await request.jsonBody(limit: bodyLimit, emptyIsObject: true)
        switch try await exec.start(agentID, input: input, stream: wantsStream, entry: .exec) {
        case .finished(let envelope):
            return Response.json(envelope)
        case .background(let session):
            return Response.json(session.json())
        case .streaming(let session, let ticket):
            // A foreground stream: the command belongs to this request and ends with it.
            return ExecEventStream.response(
                session, from: ExecCursor(), encoding: encoding,
                onDisconnect: {
                    session.terminate()
                    ticket.fail(ToolError(.cancelled, "The client left before the command ended; it was killed."))
                },
                onFinish: { ticket.finish(bytes: session.counters.stdout + session.counters.stderr) })
        }
    }
}
