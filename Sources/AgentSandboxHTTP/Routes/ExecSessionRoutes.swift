import AgentSandbox
import Foundation
import Hummingbird

/// `/v1/agents/{id}/exec/{session_id}[/wait|/stdin|/kill|/stream|/ws]`: one session's state, control and
/// output. Adapters onto `ExecService`.
struct ExecSessionRoutes: Sendable {
    let exec: ExecService
    let bodyLimit: Int
    static let path = "/v1/agents/:agent_id/exec/:session_id"

    func addRoutes(to router: Router<some RequestContext>) {
        router.get(RouterPath(Self.path)) { _, context in
            let (agent, id) = try Self.ids(context)
            return Response.json(try await exec.inspect(agent, session: id, entry: .exec))
        }
        router.post(RouterPath(Self.path + "/wait")) { request, context in
            let (agent, id) = try Self.ids(context)
            let input = try await request.jsonBody(limit: bodyLimit, emptyIsObject: true)
            return Response.json(try await exec.wait(agent, session: id, input: input, entry: .exec))
        }
        router.post(RouterPath(Self.path + "/stdin")) { request, context in
            let (agent, id) = try Self.ids(context)
            let input = try await request.jsonBody(limit: bodyLimit, emptyIsObject: true)
            return Response.json(try await exec.stdin(agent, session: id, input: input, entry: .exec))
        }
        router.post(RouterPath(Self.path + "/kill")) { request, context in
            let (agent, id) = try Self.ids(context)
            let input = try await request.jsonBody(limit: 64 << 10, emptyIsObject: true)
            return Response.json(try await exec.kill(agent, session: id, input: input, entry: .exec))
        }
        router.delete(RouterPath(Self.path)) { _, context in
            let (agent, id) = try Self.ids(context)
            return Response.json(try await exec.remove(agent, session: id, entry: .exec))
        }
        router.get(RouterPath(Self.path + "/stream")) { request, context in
            let (agent, id) = try Self.ids(context)
            let encoding = try ExecOutputEncoding(query: request.uri.queryParameters.get("encoding"))
            let resume = try ExecEventStream.resumePoint(request)
            let session = try await exec.streamableSession(agent, session: id, entry: .exec)
            return ExecEventStream.response(session, from: session.cursor(after: resume), encoding: encoding)
        }
        // Reached only when the WebSocket upgrade did not happen (see `ExecWebSocket`).
        router.get(RouterPath(Self.path + "/ws")) { _, context -> Response in
            let (agent, id) = try Self.ids(context)
            _ = try await exec.streamableSession(agent, session: id, entry: .exec)
            throw ToolError(.invalidRequest, "This route speaks WebSocket: send a GET with `Connection: Upgrade` and `Upgrade: websocket`. For SSE use .../stream.")
        }
    }

    static func ids(_ context: some RequestContext) throws -> (AgentID, String) {
        (try AgentID(context.parameters.get("agent_id") ?? ""), context.parameters.get("session_id") ?? "")
    }
}
