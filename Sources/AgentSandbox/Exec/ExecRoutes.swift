import Foundation
import HTTPTypes
import Hummingbird

/// `POST /v1/agents/{id}/exec` and `GET /v1/agents/{id}/exec`: start a command (foreground: wait for it,
/// or stream it as SSE; background: a session id at once) and list the agent's sessions.
struct ExecRoutes: Sendable {
    let services: SandboxServices
    var sessions: ExecSessionManager { services.execSessions }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/agents/:agent_id/exec") { request, context in
            try await start(request, agentID: try AgentID(context.parameters.get("agent_id") ?? ""))
        }
        router.get("/v1/agents/:agent_id/exec") { _, context in
            let agent = try await services.agents.agent(try AgentID(context.parameters.get("agent_id") ?? ""))
            return Response.json(JSONValue.object(["sessions": .array(try await sessions.list(agent: agent.id))]))
        }
        ExecSessionRoutes(services: services).addRoutes(to: router)
    }

    private func start(_ request: Request, agentID: AgentID) async throws -> Response {
        let started = Date()
        let body = try await request.decodeJSON(ExecStartBody.self, limit: services.configuration.limits.requestBodyBytes)
        let agent = try await services.agents.agentForToolCall(agentID)
        let workspace = services.workspace(for: agent)
        let launch = try ExecLaunch(body, workspace: workspace, defaultTimeout: services.configuration.limits.defaultTimeout)
        let wantsStream = request.headers[.accept]?.contains("text/event-stream") == true

        if launch.background || wantsStream {
            let encoding = try ExecOutputEncoding(query: request.uri.queryParameters.get("encoding"))
            let session = try await startSession(launch, in: workspace)
            audit(agentID, started: started, status: "ok")
            if launch.background { return Response.json(session.json()) }
            // A foreground stream: the command belongs to this request and ends with it.
            return ExecEventStream.response(session, from: ExecCursor(), encoding: encoding, request: request, onDisconnect: { session.terminate() })
        }
        try services.agents.beginCall(agent)
        defer { services.agents.finishCall(agentID) }
        let envelope: Envelope
        var failure: ToolError?
        do {
            envelope = try await ExecForeground.run(launch, in: workspace)
        } catch let error as ToolError {
            failure = error
            envelope = error.asEnvelope
        }
        audit(agentID, started: started, status: failure?.code.rawValue ?? "ok",
              bytes: (envelope.stdout?.utf8.count ?? 0) + (envelope.stderr?.utf8.count ?? 0))
        return Response.json(envelope, status: failure?.httpStatus ?? .ok)
    }

    private func startSession(_ launch: ExecLaunch, in workspace: Workspace) async throws -> ExecSession {
        do {
            return try await sessions.start(launch, in: workspace)
        } catch let error as LaunchError {
            throw ToolError(.execFailed, "The command could not be started: \(error.description).")
        }
    }

    private func audit(_ agent: AgentID, started: Date, status: String, bytes: Int = 0) {
        services.audit.record(AuditEntry(
            agentId: agent.rawValue, tool: "exec", startedAt: started, durationMs: Date().timeIntervalSince(started) * 1000,
            status: status, bytes: Int64(bytes)))
    }
}

/// A foreground exec without streaming: the bash tool's machinery (run to completion, capped output).
enum ExecForeground {
    static func run(_ launch: ExecLaunch, in workspace: Workspace) async throws -> Envelope {
        let result: ProcessResult
        do {
            result = try await workspace.launcher.run(launch.launchRequest(in: workspace))
        } catch let error as LaunchError {
            throw ToolError(.execFailed, "The command could not be started: \(error.description).")
        }
        var envelope = Envelope(stdout: result.stdout.render(), stderr: result.stderr.render(), exitCode: result.exitCode)
        envelope.extras["success"] = .bool(result.exitCode == 0 && !result.timedOut)
        envelope.extras["duration_ms"] = .number((result.duration * 1000).rounded())
        envelope.extras["truncated"] = .bool(result.stdout.truncated || result.stderr.truncated)
        if result.timedOut {
            throw ToolError(.timeout, "The command did not finish within \(Int(launch.timeout ?? 0)) s and was killed with everything it started. Raise `timeout`, or start it with \"background\": true.", envelope: envelope)
        }
        return envelope
    }
}

extension Request {
    /// Collects and decodes a JSON body (an empty body is `{}`); shape errors become a 400.
    func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int) async throws -> T {
        var data = try await collectBody(limit: limit)
        if data.isEmpty { data = Data("{}".utf8) }
        _ = try JSONCoding.parseBody(data)
        return try JSONCoding.makeDecoder().decode(T.self, from: data)
    }
}
