import ArgumentParser
import Foundation

/// `agent-sandbox node …`: cluster node administration, through a gateway (`--url`).
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Administer the nodes of a cluster through a gateway.",
        subcommands: [List.self, Drain.self, Move.self])

    /// `agent-sandbox node list`: `GET /v1/nodes`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the nodes: state, heartbeat age, agents, load.")
        @OptionGroup var server: ServerOptions

        func run() async throws {
            try await server.send("GET", "/v1/nodes")
        }
    }

    /// `agent-sandbox node drain NAME`: `POST /v1/nodes/NAME/drain`.
    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop placing agents on a node and move every agent it holds to the other nodes.")
        @Argument(help: "The node's name (--node-id it was started with).")
        var name: String
        @OptionGroup var server: ServerOptions

        func run() async throws {
            guard let escaped = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) else {
                throw ValidationError("Invalid node name '\(name)'.")
            }
            try await server.send("POST", "/v1/nodes/\(escaped)/drain")
        }
    }

    /// `agent-sandbox node move AGENT [--to NODE]`: `POST /v1/agents/AGENT/move`.
    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move one agent to another node (default: where placement puts it).")
        @Argument(help: "The agent's id.")
        var agent: String
        @Option(help: "The node to move it to.")
        var to: String?
        @OptionGroup var server: ServerOptions

        func run() async throws {
            let body = try JSONSerialization.data(withJSONObject: to.map { ["node": $0] } ?? [:])
            try await server.send("POST", "/v1/agents/\(agent)/move", body: body)
        }
    }
}
