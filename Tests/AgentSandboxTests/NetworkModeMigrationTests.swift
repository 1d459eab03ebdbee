import Foundation
import Testing

/// Network modes and the upgrade: agents made before modes existed keep the host's network (the old
/// default); new agents get the server's default, `isolated`, recorded when they are created.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct NetworkModeMigrationTests {
    @Test func agentsFromBeforeNetworkModesKeepTheHostNetworkAndNewOnesAreIsolated() async throws {
        // The server's own default (isolated), no `--network` flag: a `--network-pool` flag (the default pool)
        // tells the test harness this suite tests isolated networks.
        let server = try await TestServer(extraArguments: ["--network-pool", "10.200.0.0/16"]).start()
        defer { server.stop() }
        let (legacy, none) = (newAgent(), newAgent())
        _ = try await server.bash(legacy, "true")
        #expect(try await server.post("/v1/agents", json: ["agent_id": none, "network": "none"]).status == 201)
        #expect(try await server.agentInfo(legacy).string("network") == "isolated", "a new agent records the server's default")
        server.stop()

        // What a database from before network modes holds: no network in the settings, no v8 migration.
        let database = server.dataRoot.appendingPathComponent(".agentsandbox/agentsandbox.sqlite").path
        let result = try ArchiveSupport.shell("""
            sqlite3 '\(database)' "UPDATE agents SET settings = NULL WHERE id = '\(legacy)'; DELETE FROM grdb_migrations WHERE identifier = 'v9: explicit network mode';"
            """)
        #expect(result.status == 0, "\(result.output)")

        try await server.start()
        #expect(try await server.agentInfo(legacy).string("network") == "host", "the old default, written explicitly")
        #expect(try await server.agentInfo(none).string("network") == "none", "an explicit mode is kept")
        let interfaces = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' '"
        let hostNamespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
        #expect(try await server.bash(legacy, "readlink /proc/self/ns/net").string("stdout") == hostNamespace + "\n", "on the host's network")
        let fresh = newAgent()
        #expect(try await server.bash(fresh, interfaces).string("stdout") == "eth0 lo ")
        #expect(try await server.agentInfo(fresh).string("network") == "isolated")
    }
}
