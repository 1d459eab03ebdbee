import AgentSandbox
import ArgumentParser
import Foundation

/// `agent-sandbox key create`: adds an API key to the store (a running server picks it up).
struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "key", abstract: "Manage API keys.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key; prints it once (stored hashed).")

        @Option(name: .customLong("data"), help: "Data root (env AGENT_SANDBOX_DATA; default: the repository's workspaces/).")
        var dataRoot: String?

        @Option(help: "A label for the key.")
        var name: String = "cli"

        func run() async throws {
            let root = dataRoot ?? ProcessInfo.processInfo.environment["AGENT_SANDBOX_DATA"]
                ?? Locations.discover().repository.appendingPathComponent("workspaces").path
            let database = URL(fileURLWithPath: root).appendingPathComponent(".agentsandbox/agentsandbox.sqlite").path
            guard FileManager.default.fileExists(atPath: database) else {
                throw ValidationError("no server database at \(database); start the server once first (or pass --data)")
            }
            let store = try Store(path: database)
            let key = APIKeyAuthority.generateKey()
            try await store.insertAPIKey(hash: SHA256Hasher.hex(key), name: name)
            print(key)
        }
    }
}
