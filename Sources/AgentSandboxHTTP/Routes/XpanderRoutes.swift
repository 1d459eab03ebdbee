import AgentSandbox
import Hummingbird

/// xpander's SDK route, `POST /workspace/{agent_id}/tools/{tool_name}` (its `XPANDER_BASE_URL` points at
/// this server's root, or at any prefix a proxy strips). An adapter:
/// - the eight tools run through `CallPipeline.callTool` and answer the workspace family's bodies
///   (`WorkspaceResult`: file_read `{content, …}`, file_write `{path, …}` …); a tool-level failure answers
///   the envelope, whose `error` sentence says what happened (a missing file: "File not found: …");
/// - `mcp_list_tools` `{command, name, env_vars, timeout}` → `{tools: [{name, description, input_schema}]}`
///   and `mcp_call_tool` `{command, name, env_vars, tool, arguments, timeout}` → `{content, is_error}` run
///   the stdio MCP server inside the agent's sandbox (`SandboxMCPServers`). A server that cannot start,
///   times out or breaks the protocol is `is_error: true` with the sentence in `content`.
struct XpanderRoutes: Sendable {
    let pipeline: CallPipeline
    let mcpServers: SandboxMCPServers
    let bodyLimit: Int

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/workspace/:agent_id/tools/:tool") { request, context in
            let agent = try AgentID(context.parameters.get("agent_id") ?? "")
            let tool = context.parameters.get("tool") ?? ""
            let input = try await request.jsonBody(limit: bodyLimit)
            switch tool {
            case "mcp_list_tools":
                return try await Self.mcpReply { () async throws(ToolError) -> JSONValue in
                    .object(["tools": .array(try await mcpServers.listTools(agent, input: input, entry: .xpander))])
                } failed: { error in
                    ["tools": [], "is_error": true, "error": .string(error.message), "error_code": .string(error.code.rawValue)]
                }
            case "mcp_call_tool":
                return try await Self.mcpReply { () async throws(ToolError) -> JSONValue in
                    Self.callResult(try await mcpServers.callTool(agent, input: input, entry: .xpander))
                } failed: { error in
                    ["content": [["type": "text", "text": .string(error.message)]], "is_error": true, "error_code": .string(error.code.rawValue)]
                }
            default:
                let envelope = try await pipeline.callTool(CallRequest(agentID: agent, operation: tool, input: input, entry: .xpander))
                return Response.json(WorkspaceResult.body(tool: tool, envelope: envelope))
            }
        }
    }

    /// The MCP answer; a tool-level failure (the server failed, timed out) as the `failed` body with
    /// 200, a request-level one (bad input, 409, 410, 429) thrown to the error middleware.
    private static func mcpReply(_ run: () async throws(ToolError) -> JSONValue, failed: (ToolError) -> JSONValue) async throws(ToolError) -> Response {
        do throws(ToolError) {
            return Response.json(try await run())
        } catch where error.httpStatus == .ok {
            return Response.json(failed(error))
        }
    }

    /// MCP's `CallToolResult` in xpander's names: `content` (the content items), `is_error`, and
    /// `structured_content` when the server sent it.
    static func callResult(_ result: JSONValue) -> JSONValue {
        var fields: [String: JSONValue] = [
            "content": result["content"] ?? [], "is_error": .bool(result["isError"]?.boolValue ?? false),
        ]
        if let structured = result["structuredContent"], structured != .null { fields["structured_content"] = structured }
        return .object(fields)
    }
}
