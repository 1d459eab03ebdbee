import Foundation
import HTTPTypes
import Hummingbird

/// `/v1/agents/{id}/exec/{session_id}[/wait|/stdin|/kill|/stream|/ws]`: one session's state, control and output.
struct ExecSessionRoutes: Sendable {
    let services: SandboxServices
    var sessions: ExecSessionManager { services.execSessions }
    static let path = "/v1/agents/:agent_id/exec/:session_id"

    /// The `POST .../stdin` body.
    struct StdinBody: Decodable, Sendable {
        var data: String?
        var encoding: String?
        var eof: Bool?
    }

    /// The `POST .../wait` body.
    struct WaitBody: Decodable, Sendable {
        var timeout: Double?
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        let limit = services.configuration.limits.requestBodyBytes
        router.get(RouterPath(Self.path)) { _, context in
            switch try await target(context) {
            case .live(let session): return Response.json(session.json())
            case .recorded(let record): return Response.json(record.json())
            }
        }
        router.post(RouterPath(Self.path + "/wait")) { request, context in
            let body = try await request.decodeJSON(WaitBody.self, limit: limit)
            let timeout = body.timeout ?? 30
            guard timeout.isFinite, timeout >= 0, timeout <= 3600 else { throw ToolError.invalidField("timeout", "must be between 0 and 3600 seconds.") }
            guard case .live(let session) = try await target(context) else { return try await recordedWait(context) }
            _ = await session.waitUntilEnded(timeout: timeout)
            var fields = session.json().objectValue ?? [:]
            let output = ExecEventFormat.text(session.consumeUnread(limit: .max))
            fields["stdout"] = .string(output.stdout)
            fields["stderr"] = .string(output.stderr)
            return Response.json(JSONValue.object(fields))
        }
        router.post(RouterPath(Self.path + "/stdin")) { request, context in
            let body = try await request.decodeJSON(StdinBody.self, limit: limit)
            let session = try await liveSession(context)
            let bytes = try Self.decode(body.data ?? "", encoding: body.encoding)
            try session.writeStdin(bytes, eof: body.eof ?? false)
            return Response.json(JSONValue.object([
                "session_id": .string(session.id), "bytes": .number(Double(bytes.count)), "stdin_open": .bool(!(body.eof ?? false)),
            ]))
        }
        router.post(RouterPath(Self.path + "/kill")) { request, context in
            let body = try await request.jsonBody(limit: 64 << 10, emptyIsObject: true)
            let signal = try ExecSignal.parse(body["signal"])
            let session = try await liveSession(context)
            try session.signal(signal)
            var fields = session.json().objectValue ?? [:]
            fields["signal_sent"] = .string(ExecSignal.name(of: signal))
            return Response.json(JSONValue.object(fields))
        }
        router.delete(RouterPath(Self.path)) { _, context in
            let (agent, id) = try Self.ids(context)
            try await sessions.remove(agent: agent, id: id)
            return Response.json(JSONValue.object(["session_id": .string(id), "state": "deleted"]))
        }
        router.get(RouterPath(Self.path + "/stream")) { request, context in
            let session = try await streamableSession(context)
            let encoding = try ExecOutputEncoding(query: request.uri.queryParameters.get("encoding"))
            let cursor = session.cursor(after: try ExecEventStream.resumePoint(request))
            return ExecEventStream.response(session, from: cursor, encoding: encoding)
        }
        // Reached only when the WebSocket upgrade did not happen (see `ExecWebSocket`).
        router.get(RouterPath(Self.path + "/ws")) { _, context -> Response in
            _ = try await streamableSession(context)
            throw ToolError(.invalidRequest, "This route speaks WebSocket: send a GET with `Connection: Upgrade` and `Upgrade: websocket`. For SSE use .../stream.")
        }
    }

    // MARK: Lookup

    static func ids(_ context: BasicRequestContext) throws -> (AgentID, String) {
        (try AgentID(context.parameters.get("agent_id") ?? ""), context.parameters.get("session_id") ?? "")
    }

    private func target(_ context: BasicRequestContext) async throws -> ExecSessionManager.Either {
        let (agent, id) = try Self.ids(context)
        _ = try await services.agents.agent(agent)
        return try await sessions.lookup(agent: agent, id: id)
    }

    /// A session that is in memory and still running (409 otherwise).
    private func liveSession(_ context: BasicRequestContext) async throws -> ExecSession {
        guard case .live(let session) = try await target(context), session.isRunning else {
            throw ToolError(.sessionNotRunning, "Session \(context.parameters.get("session_id") ?? "") is not running; see its state with GET .../exec/{session_id}.")
        }
        return session
    }

    /// A session whose output is still in memory (a `lost` one has none).
    private func streamableSession(_ context: BasicRequestContext) async throws -> ExecSession {
        guard case .live(let session) = try await target(context) else {
            throw ToolError(.sessionNotRunning, "Session \(context.parameters.get("session_id") ?? "") was lost in a server restart; its output is gone.")
        }
        return session
    }

    private func recordedWait(_ context: BasicRequestContext) async throws -> Response {
        guard case .recorded(let record) = try await target(context) else { throw ToolError(.internalError, "Session state changed; retry.") }
        var fields = record.json().objectValue ?? [:]
        fields["stdout"] = ""
        fields["stderr"] = ""
        return Response.json(JSONValue.object(fields))
    }

    static func decode(_ data: String, encoding: String?) throws(ToolError) -> [UInt8] {
        switch encoding?.lowercased() {
        case nil, "utf-8", "utf8", "text": return Array(data.utf8)
        case "base64":
            guard let decoded = Data(base64Encoded: data) else { throw ToolError.invalidField("data", "is not valid base64.") }
            return Array(decoded)
        default: throw ToolError.invalidField("encoding", "must be \"utf-8\" or \"base64\".")
        }
    }
}
