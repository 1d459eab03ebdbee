import AgentSandbox
import Hummingbird

/// The tool-call entry points, each an adapter onto `CallPipeline.callTool`:
/// - `POST /v1/agents/{id}/sandbox/{tool}`: the envelope;
/// - `POST /v1/agents/{id}/tools/call`: a model's tool call in any shape (`ToolCallShape`), or an array of
///   them run concurrently; `?reply=anthropic|openai` answers with that API's tool-result messages;
/// - `POST /v1/agents/{id}/workspace/{tool}`: xpander's tool-specific bodies (`WorkspaceResult`).
struct ToolRoutes: Sendable {
    let pipeline: CallPipeline
    let bodyLimit: Int

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/agents/:agent_id/sandbox/:tool") { request, context in
            let call = try await callRequest(request, context, entry: .sandbox)
            return try await Response.json(pipeline.callTool(call))
        }
        router.post("/v1/agents/:agent_id/tools/call") { request, context in
            try await toolsCall(request, agentID: try AgentID(context.parameters.get("agent_id") ?? ""))
        }
        router.post("/v1/agents/:agent_id/workspace/:tool") { request, context in
            let call = try await callRequest(request, context, entry: .workspace)
            let envelope = try await pipeline.callTool(call)
            return Response.json(WorkspaceResult.body(tool: call.operation, envelope: envelope))
        }
    }

    private func callRequest(_ request: Request, _ context: some RequestContext, entry: CallRequest.Entry) async throws -> CallRequest {
        let agent = try AgentID(context.parameters.get("agent_id") ?? "")
        let tool = context.parameters.get("tool") ?? ""
        let input = try await request.jsonBody(limit: bodyLimit)
        return CallRequest(agentID: agent, operation: tool, input: input, entry: entry)
    }

    private func toolsCall(_ request: Request, agentID: AgentID) async throws -> Response {
        let style = try ToolCallShape.ReplyStyle(query: request.uri.queryParameters.get("reply"))
        let body = try await request.jsonBody(limit: bodyLimit)
        if case .array(let items) = body {
            guard !items.isEmpty, items.count <= 64 else {
                throw ToolError.invalidField("(body)", "must hold between 1 and 64 tool calls.")
            }
            var calls: [ToolCallShape] = []
            for (index, item) in items.enumerated() { calls.append(try ToolCallShape(item, position: "[\(index)]")) }
            let results = await pipeline.callTools(calls.map { callRequest(for: $0, agentID) })
            let replies = zip(calls, results).map { call, result -> JSONValue in
                if let style { return call.reply(result, style: style) }
                switch result {
                case .success(let envelope): return Self.json(envelope)
                case .failure(let error): return Self.json(error.asEnvelope)
                }
            }
            return Response.json(JSONValue.array(replies))
        }
        let call = try ToolCallShape(body)
        guard let style else { return try await Response.json(pipeline.callTool(callRequest(for: call, agentID))) }
        do {
            return Response.json(call.reply(.success(try await pipeline.callTool(callRequest(for: call, agentID))), style: style))
        } catch {
            return Response.json(call.reply(.failure(ToolError(normalizing: error)), style: style))
        }
    }

    private func callRequest(for call: ToolCallShape, _ agentID: AgentID) -> CallRequest {
        CallRequest(agentID: agentID, operation: call.name, input: call.input, entry: .toolsCall)
    }

    private static func json(_ envelope: Envelope) -> JSONValue {
        (try? JSONCoding.parseBody(bytes: Array(envelope.jsonBytes()))) ?? .null
    }
}
