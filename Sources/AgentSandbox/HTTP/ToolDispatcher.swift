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
    /// Registers the three tool-call route families.
    func addRoutes(to router: Router<BasicRequestContext>) {
        let limit = services.configuration.limits.requestBodyBytes
        // The envelope family: POST /v1/agents/{agent_id}/sandbox/{tool}.
        router.post("/v1/agents/:agent_id/sandbox/:tool") { request, context in
            let agent = try AgentID(context.parameters.get("agent_id") ?? "")
            let tool = context.parameters.get("tool") ?? ""
            _ = try services.tools.entry(named: tool)
            let input = try await request.jsonBody(limit: limit)
            let (envelope, failure) = try await dispatch(agentID: agent, tool: tool, input: input)
            return Response.json(envelope, status: failure?.httpStatus ?? .ok)
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
