import Foundation
import Hummingbird

/// Runs one tool call end to end: agent lookup (or implicit creation), concurrency limit,
/// schema validation, the tool itself, audit and metrics. Every route family calls through here.
public struct ToolDispatcher: Sendable {
    let services: SandboxServices

    /// Runs `tool` for `agentID` with `input`; a `ToolError` becomes the error envelope.
    /// Returns the envelope and the HTTP status it travels with.
    /// Runs on the caller's executor (`nonisolated(nonsending)`): a call is one task, and each hop to the
    /// generic executor cost a runtime switch per call.
    nonisolated(nonsending) func dispatch(agentID: AgentID, tool: String, input: JSONValue) async throws -> (Envelope, ToolError?) {
        let started = Date()
        _ = try services.tools.entry(named: tool)
        let agent: Agent
        if let cached = services.agents.cachedAgentForToolCall(agentID) {
            agent = cached
        } else {
            agent = try await services.agents.agentForToolCall(agentID)
        }
        try services.agents.beginCall(agent)
        defer { services.agents.finishCall(agentID) }
        var context = ToolContext(workspace: services.workspace(for: agent), configuration: services.configuration)
        context.shares = services.shares

        var envelope: Envelope
        var failure: ToolError?
        do {
            envelope = try await services.tools.call(tool, input: input, schemas: services.schemas, context: context)
        } catch let error as ToolError {
            failure = error
            envelope = error.asEnvelope
        } catch let error as LaunchError {
            failure = ToolError(.execFailed, "The command could not be started: \(error.description).")
            envelope = failure!.asEnvelope
        }
        let seconds = Date().timeIntervalSince(started)
        services.metrics.recordCall(tool: tool, status: envelope.status.rawValue, seconds: seconds)
        let bytes = (envelope.stdout?.utf8.count ?? 0) + (envelope.stderr?.utf8.count ?? 0) + (envelope.content?.utf8.count ?? 0)
        services.audit.record(AuditEntry(
            agentId: agentID.rawValue, tool: tool, startedAt: started, durationMs: seconds * 1000,
            status: failure?.code.rawValue ?? envelope.status.rawValue, bytes: Int64(bytes)))
        return (envelope, failure)
    }
}

extension ToolDispatcher {
    /// `POST /v1/agents/{agent_id}/sandbox/{tool}`: the router's handler, and `SandboxResponder`'s
    /// direct path for the same route (see `envelopeCallTarget`).
    nonisolated(nonsending) func envelopeCall(_ request: Request, agentID: String, tool: String) async throws -> Response {
        let agent = try AgentID(agentID)
        _ = try services.tools.entry(named: tool)
        let input = try await request.jsonBody(limit: services.configuration.limits.requestBodyBytes)
        let (envelope, failure) = try await dispatch(agentID: agent, tool: tool, input: input)
        return Response.json(envelope, status: failure?.httpStatus ?? .ok)
    }

    /// The `agent_id` and `tool` of a plain `POST /v1/agents/<agent_id>/sandbox/<tool>` — both segments
    /// made of letters, digits, `-` and `_` only, so they are exactly what the router's parameters would
    /// hold. Anything else (other methods, escapes, extra or empty segments) is nil: the router decides.
    static func envelopeCallTarget(method: HTTPRequest.Method, path: String) -> (agentID: String, tool: String)? {
        guard method == .post else { return nil }
        var path = path.utf8[...]
        let prefix = "/v1/agents/".utf8
        guard path.starts(with: prefix) else { return nil }
        path = path.dropFirst(prefix.count)
        func segment() -> String? {
            let end = path.firstIndex(of: UInt8(ascii: "/")) ?? path.endIndex
            let piece = path[..<end]
            guard !piece.isEmpty, piece.allSatisfy(isPlain) else { return nil }
            path = path[end...]
            return String(Substring(piece))
        }
        guard let agent = segment(), path.starts(with: "/sandbox/".utf8) else { return nil }
        path = path.dropFirst("/sandbox/".utf8.count)
        guard let tool = segment(), path.isEmpty else { return nil }
        return (agent, tool)
    }

    private static func isPlain(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }

    /// Registers the three tool-call route families.
    func addRoutes(to router: Router<BasicRequestContext>) {
        let limit = services.configuration.limits.requestBodyBytes
        // The envelope family: POST /v1/agents/{agent_id}/sandbox/{tool}.
        router.post("/v1/agents/:agent_id/sandbox/:tool") { request, context in
            try await envelopeCall(request, agentID: context.parameters.get("agent_id") ?? "", tool: context.parameters.get("tool") ?? "")
        }
        // An LLM tool_use block as is: {"name": TOOL, "input": {...}}.
        router.post("/v1/agents/:agent_id/tools/call") { request, context in
            let agent = try AgentID(context.parameters.get("agent_id") ?? "")
            let body = try await request.jsonBody(limit: limit)
            guard case .string(let tool)? = body["name"] else {
                throw ToolError.invalidField("name", "is required and must be a string naming the tool (e.g. \"bash\").")
            }
            let input = body["input"] ?? .object([:])
            guard case .object = input else { throw ToolError.invalidField("input", "must be an object.") }
            let (envelope, failure) = try await dispatch(agentID: agent, tool: tool, input: input)
            return Response.json(envelope, status: failure?.httpStatus ?? .ok)
        }
        // Tool-specific result bodies (xpander's "workspace" family).
        router.post("/v1/agents/:agent_id/workspace/:tool") { request, context in
            let agent = try AgentID(context.parameters.get("agent_id") ?? "")
            let tool = context.parameters.get("tool") ?? ""
            _ = try services.tools.entry(named: tool)
            let input = try await request.jsonBody(limit: limit)
            let (envelope, failure) = try await dispatch(agentID: agent, tool: tool, input: input)
            if let failure { return Response.json(envelope, status: failure.httpStatus) }
            return Response.json(WorkspaceResult.body(tool: tool, envelope: envelope))
        }
    }
}
