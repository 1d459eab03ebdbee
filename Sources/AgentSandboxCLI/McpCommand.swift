import ArgumentParser
import Foundation

/// `agent-sandbox mcp --agent UUID`: an MCP server on stdin/stdout for desktop clients, relaying each
/// JSON-RPC line to the running server's Streamable HTTP endpoint (`/v1/agents/{id}/mcp`) and its
/// replies and notifications back — so there is one MCP implementation, the server's.
///
/// A client's config line: `{"command": "agent-sandbox", "args": ["mcp", "--agent", "<uuid>"],
/// "env": {"AGENT_SANDBOX_URL": "http://127.0.0.1:8080", "AGENT_SANDBOX_API_KEY": "<key>"}}`.
struct McpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve one agent's tools over MCP on stdin/stdout, relayed to a running server.",
        discussion: "Reads newline-delimited JSON-RPC from stdin and writes the server's replies to stdout; logs go to stderr.")

    @OptionGroup var server: ServerOptions

    @Option(help: "The agent (UUID) whose workspace the tools act on.")
    var agent: String

    func validate() throws {
        guard UUID(uuidString: agent) != nil else { throw ValidationError("--agent must be a UUID, e.g. \(UUID().uuidString.lowercased()).") }
    }

    func run() async throws {
        let endpoint = try server.endpoint("/v1/agents/\(agent.lowercased())/mcp")
        let relay = McpRelay(endpoint: endpoint, key: try server.key())
        await relay.run(lines: StdinLines.stream())
    }
}

/// stdin as an async sequence of lines, read on a thread of its own (reads block).
enum StdinLines {
    static func stream() -> AsyncStream<String> {
        AsyncStream { continuation in
            let thread = Thread {
                while let line = readLine(strippingNewline: true) {
                    continuation.yield(line)
                }
                continuation.finish()
            }
            thread.name = "mcp-stdin"
            thread.start()
        }
    }
}
