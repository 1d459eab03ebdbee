import AgentSandbox
import ArgumentParser
import Foundation
import SandboxKernel
import Logging

/// `agent-sandbox key create|list|revoke`: API keys in the server's store (a running server picks up a
/// new key at once and drops a revoked one within a second).
struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Manage API keys.", subcommands: [Create.self, List.self, Revoke.self])

    /// `--data`: where the server keeps its database; `--cluster`: a cluster's PostgreSQL database instead.
    struct StoreOptions: ParsableArguments {
        @Option(name: .customLong("data"), help: "Data root (env AGENT_SANDBOX_DATA; default: the repository's workspaces/).")
        var dataRoot: String?

        @Option(help: "A cluster's PostgreSQL database, postgres://user@host:port/database (env AGENT_SANDBOX_CLUSTER): keys there are valid on every node.")
        var cluster: String?

        /// Runs `body` on the server's store; a usage error when the server never ran there.
        func with<T>(_ body: (any SandboxStore) async throws -> T) async throws -> T {
            if let cluster = cluster ?? ProcessInfo.processInfo.environment["AGENT_SANDBOX_CLUSTER"] {
                let store: PostgresStore
                do {
                    store = try await PostgresStore.connect(url: cluster, nodeID: "key-cli", node: nil, logger: Logger(label: "agent-sandbox"))
                } catch let error as ConfigurationError {
                    throw ValidationError(error.description)
                }
                do {
                    let result = try await body(store)
                    await store.close()
                    return result
                } catch {
                    await store.close()
                    throw error
                }
            }
            let root = dataRoot ?? ProcessInfo.processInfo.environment["AGENT_SANDBOX_DATA"]
                ?? Locations.discover().repository.appendingPathComponent("workspaces").path
            let database = URL(fileURLWithPath: root).appendingPathComponent(".agentsandbox/agentsandbox.sqlite").path
            guard FileManager.default.fileExists(atPath: database) else {
                throw ValidationError("no server database at \(database); start the server once first (or pass --data)")
            }
            return try await body(try SQLiteStore(path: database))
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key; prints it once (stored hashed).")
        @OptionGroup var store: StoreOptions
        @Option(help: "A label for the key.") var name: String = "cli"

        func run() async throws {
            let key = APIKeyAuthority.generateKey()
            try await store.with { try await $0.insertAPIKey(hash: SHA256Hasher.hex(key), name: name) }
            print(key)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API keys: id, created, label (never the key itself).")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let keys = try await store.with { try await $0.apiKeys() }
            let formatter = ISO8601DateFormatter()
            print("ID\tCREATED\tNAME")
            for key in keys {
                print("\(key.id.map(String.init) ?? "-")\t\(formatter.string(from: key.createdAt))\t\(key.name)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API key by its id (see `key list`); a running server refuses it within a second.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The key's id, as `agent-sandbox key list` shows it.") var id: Int64

        func run() async throws {
            guard try await store.with({ try await $0.deleteAPIKey(id: id) }) else {
                throw ValidationError("No API key with id \(id); `agent-sandbox key list` shows the ids.")
            }
            print("revoked key \(id)")
        }
    }
}
