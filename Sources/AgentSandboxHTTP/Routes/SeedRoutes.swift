import AgentSandbox
import Hummingbird

/// The seed APIs' exec shapes, so their clients work unchanged (the sandbox id is the agent id). Each
/// is an adapter onto `ExecService` (`SeedShape` renames the fields); errors leave as their
/// `{error, errorCode, detail}` body (`SeedErrorBody`):
/// - `POST /sandboxes/{id}/exec` `{command}` → `{exitCode, stdout, stderr}`;
/// - `POST /api/v1/sandboxes/{id}/exec` `{command, options: {timeout, stdin, background, env, cwd}}` →
///   `{stdout, stderr, exitCode, success}`, SSE with `Accept: text/event-stream`, or (background)
///   `{success, pid, sessionId}`;
/// - `POST /sandboxes/{id}/commands` and its `{pid}` routes: `SeedCommandRoutes`.
///
/// An exec without `cwd` starts in the agent's working directory (`POST /v1/agents/{id}/cwd`); a `user`
/// other than the agent's own is a 400.
struct SeedRoutes: Sendable {
    let exec: ExecService
    let bodyLimit: Int

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/sandboxes/:agent_id/exec") { request, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            let input = try SeedShape.execInput(try await request.jsonBody(limit: bodyLimit))
            guard case .finished(let result) = try await SeedShape.start(exec, id, input: input, stream: false) else {
                throw ToolError(.internalError, "A foreground command did not run to its end.")
            }
            return Response.json(result.camelCase)
        }
        router.post("/api/v1/sandboxes/:agent_id/exec") { request, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            let wantsStream = request.headers[.accept]?.contains("text/event-stream") == true
            let input = try SeedShape.apiInput(try await request.jsonBody(limit: bodyLimit))
            switch try await SeedShape.start(exec, id, input: input, stream: wantsStream) {
            case .finished(let result):
                return Response.json(result.api)
            case .background(let session):
                return Response.json(JSONValue.object(["success": true, "pid": .number(Double(session.pid)), "sessionId": .string(session.id)]))
            case .streaming(let session, let ticket):
                return ExecEventStream.foreground(session, ticket: ticket, encoding: .text, request: request)
            }
        }
        SeedCommandRoutes(exec: exec, bodyLimit: bodyLimit).addRoutes(to: router)
    }
}
