import ArgumentParser
import Foundation

/// `agent-sandbox agent create|list|delete` against a running server.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent", abstract: "Create, list or delete agents on a running server.", subcommands: [Create.self, List.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an agent (prints its record).")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The agent's id (a UUID); a random one when omitted.") var agentID: String?
        @Option(help: "Network mode: isolated, none or host (default: the server's).") var network: String?

        func run() async throws {
            var body: [String: Any] = [:]
            if let agentID { body["agent_id"] = agentID }
            if let network { body["network"] = network }
            try await server.send("POST", "/v1/agents", body: try JSONSerialization.data(withJSONObject: body))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List live agents.")
        @OptionGroup var server: ServerOptions
        func run() async throws { try await server.send("GET", "/v1/agents") }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an agent: its processes, workspace, shares and uid.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The agent's id.") var agentID: String
        func run() async throws { try await server.send("DELETE", "/v1/agents/\(agentID.escapedPathComponent)") }
    }
}

/// `agent-sandbox call AGENT_ID TOOL [JSON]`: one tool call; prints the envelope. Exits 1 when the
/// tool failed (`status: "error"`), like a failed request.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "call", abstract: "Call one tool for an agent on a running server.")
    @OptionGroup var server: ServerOptions
    @Argument(help: "The agent's id (a UUID).") var agentID: String
    @Argument(help: "The tool: bash, file_read, file_write, file_edit, multi_edit, glob, grep, file_share.") var tool: String
    @Argument(help: "The tool's input as a JSON object, e.g. '{\"command\": \"ls\"}'.") var input: String = "{}"

    func run() async throws {
        guard (try? JSONSerialization.jsonObject(with: Data(input.utf8))) is [String: Any] else {
            throw ValidationError("The input must be a JSON object, e.g. '{\"command\": \"ls\"}'.")
        }
        // Sent as typed (numbers such as 1.0 or large integers would not survive a round trip).
        let reply = try await server.fetch("POST", "/v1/agents/\(agentID.escapedPathComponent)/sandbox/\(tool.escapedPathComponent)", body: Data(input.utf8))
        print(String(decoding: reply.body, as: UTF8.self))
        if reply.status >= 400 { throw ServerError(status: reply.status, body: reply.body) }
        // A tool that ran and failed (HTTP 200, status "error") is a failed command too.
        let envelope = (try? JSONSerialization.jsonObject(with: reply.body)) as? [String: Any]
        if envelope?["status"] as? String == "error" {
            let code = envelope?["error_code"] as? String ?? "ERROR"
            FileHandle.standardError.write(Data("Error: \(envelope?["error"] as? String ?? "the tool failed.") (\(code))\n".utf8))
            throw ExitCode.failure
        }
    }
}
