import AgentSandbox
import Foundation
import MCP
import SandboxKernel

/// One MCP server (the SDK's `Server`) for one agent and one session: `tools/list` from the published
/// schemas, `tools/call` through the call pipeline, the workspace's files as resources.
///
/// A call is the SDK's handler task: `notifications/cancelled` cancels it, and the cancellation reaches
/// the running command (`ProcessLauncher.run` kills its tree). With a `progressToken`, a call sends a
/// progress notification every `progressInterval` until it ends.
enum MCPAgentServer {
    static let progressInterval: Duration = .seconds(1)

    static func make(agent: AgentID, port: MCPCallPort, catalog: MCPToolCatalog) async -> Server {
        let server = Server(
            name: "agent-sandbox", version: "1",
            instructions: "Tools run in agent \(agent)'s own workspace as its own user. Paths are relative to the workspace root. Use bash for commands that finish; exec_start / exec_output / exec_kill for servers and long jobs.",
            capabilities: .init(resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false)))
        let resources = MCPResources(port: port, agent: agent)
        await server.withMethodHandler(ListTools.self) { _ in
            ListTools.Result(tools: catalog.tools)
        }
        await server.withMethodHandler(CallTool.self) { [weak server] params in
            let input = JSONValue.object((params.arguments ?? [:]).mapValues { JSONValue($0) })
            let ticker = params._meta?.progressToken.map { token in
                Task { [weak server] in await sendProgress(token, to: server) }
            }
            defer { ticker?.cancel() }
            let envelope = try await port.call(agent: agent, tool: params.name, input: input)
            // Cancelled: the SDK sends no reply to a cancelled request.
            try Task.checkCancellation()
            let structured: MCP.Value? = MCP.Value(envelope.jsonValue)
            return CallTool.Result(
                content: [.text(text: ModelText.render(envelope, tool: params.name), annotations: nil, _meta: nil)],
                structuredContent: structured, isError: envelope.status == .error)
        }
        await server.withMethodHandler(ListResources.self) { params in
            try await resources.list(cursor: params.cursor)
        }
        await server.withMethodHandler(ReadResource.self) { params in
            try await resources.read(uri: params.uri)
        }
        await server.withMethodHandler(ListResourceTemplates.self) { _ in
            ListResourceTemplates.Result(templates: [
                Resource.Template(uriTemplate: MCPResources.scheme + "/{path}", name: "workspace file",
                                  description: "A file in the agent's workspace, by its path relative to the workspace root.")
            ])
        }
        return server
    }

    /// Progress while a call runs: seconds elapsed, once per interval, until cancelled.
    private static func sendProgress(_ token: ProgressToken, to server: Server?) async {
        let clock = ContinuousClock()
        let started = clock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: progressInterval)
            guard !Task.isCancelled, let server else { return }
            let seconds = (clock.now - started).components.seconds
            try? await server.notify(ProgressNotification.message(.init(
                progressToken: token, progress: Double(seconds), message: "running for \(seconds) s")))
        }
    }
}

/// The tool list MCP clients see: the eight tools with the name, description and input schema that
/// `GET /v1/tools` publishes, and the session tools of `schemas/mcp/` (one source: `schemas/`), built once.
struct MCPToolCatalog: Sendable {
    let tools: [MCP.Tool]

    /// Tools that only read (a client may run them without asking).
    static let readOnly: Set<String> = ["file_read", "glob", "grep", "exec_output"]

    init(port: MCPCallPort) throws(ToolError) {
        tools = try port.toolDefinitions().compactMap { definition in
            guard let name = definition["name"]?.stringValue else { return nil }
            return MCP.Tool(
                name: name, description: definition["description"]?.stringValue,
                inputSchema: MCP.Value(definition["input_schema"] ?? ["type": "object"]),
                annotations: Self.readOnly.contains(name) ? .init(readOnlyHint: true) : nil)
        }
    }
}
