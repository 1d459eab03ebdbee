import AgentSandbox

/// The one door from MCP into the server: every `tools/call`, every resource read and every session
/// opening goes through the `CallPipeline` here (entry `mcp` in metrics) — admission, schema
/// validation, the run, error mapping, audit. The eight tools run as `pipeline.callTool`; the session
/// tools (`exec_start`, `exec_output`, `exec_kill`) through `ExecService`, the pipeline's exec adapter.
struct MCPCallPort: Sendable {
    let pipeline: CallPipeline
    let exec: ExecService

    /// Runs `tool` for `agent`. A request-level refusal (unknown tool, bad input, suspended agent, over
    /// the concurrency limit) comes back as its error envelope, as a tool failure does: either way the
    /// model reads the sentence and can act on it. Cancellation of the calling task propagates (the
    /// SDK sends no reply to a cancelled request).
    func call(agent: AgentID, tool: String, input: JSONValue) async throws(CancellationError) -> Envelope {
        do {
            switch tool {
            case "exec_start": return try await execStart(agent, input)
            case "exec_output": return try await execOutput(agent, input)
            case "exec_kill": return try await execKill(agent, input)
            default: return try await pipeline.callTool(CallRequest(agentID: agent, operation: tool, input: input, entry: .mcp))
            }
        } catch {
            if error.code == .cancelled, Task.isCancelled { throw CancellationError() }
            return error.asEnvelope
        }
    }

    /// Admits `agent` for a new MCP session (created on first use when implicit creation is on, as by
    /// a tool call; 409 suspended, 410 deleted); audited as `mcp.initialize`.
    func openSession(agent: AgentID) async throws(ToolError) {
        try await pipeline.run(CallRequest(agentID: agent, operation: "mcp.initialize", entry: .mcp), admission: .session) { _ in }
    }

    /// The tools an MCP client sees: the eight of `GET /v1/tools`, then the session tools of `schemas/mcp/`.
    func toolDefinitions() throws(ToolError) -> [JSONValue] {
        let published = try pipeline.schemas.toolDefinitions(format: "anthropic").arrayValue ?? []
        let sessions = try pipeline.schemas.toolDefinitions(folder: "mcp", format: "anthropic").arrayValue ?? []
        return published.filter { pipeline.tools.contains($0["name"]?.stringValue ?? "") } + sessions
    }
}
