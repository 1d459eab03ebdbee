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

    /// The envelope route's path as the router describes it.
    static let envelopeCallPath = "/v1/agents/{agent_id}/sandbox/{tool}"

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/agents/:agent_id/sandbox/:tool") { request, _ in
            try await envelopeCall(request)
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

    /// `POST /v1/agents/{agent_id}/sandbox/{tool}`: the envelope. The agent and tool are read off the
    /// path, so the call is answered the same whether the router matched it or `ConcreteRouterResponder`.
    func envelopeCall(_ request: Request) async throws -> Response {
        guard let target = Self.envelopeCallTarget(request.uri.path) else { throw HTTPError(.notFound) }
        let agent = try AgentID(String(target.agent))
        let input = try await request.jsonBody(limit: bodyLimit)
        let call = CallRequest(agentID: agent, operation: String(target.tool), input: input, entry: .sandbox)
        return try await Response.json(pipeline.callTool(call))
    }

    /// The agent and tool of the envelope route's path, `/v1/agents/{agent_id}/sandbox/{tool}` (empty
    /// segments skipped as the router skips them); nil for any other path.
    static func envelopeCallTarget(_ path: String) -> (agent: Substring, tool: Substring)? {
        var segments = PathSegments(path)
        guard segments.next() == "v1", segments.next() == "agents", let agent = segments.next(),
              segments.next() == "sandbox", let tool = segments.next(), segments.next() == nil else { return nil }
        return (agent, tool)
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
