import Foundation
import Testing

/// Network modes and the upgrade: agents made before modes existed keep the host's network (the old
/// default); new agents get the server's default, `isolated`, recorded when they are created.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct NetworkModeMigrationTests {
    @Test func agentsFromBeforeNetworkModesKeepTheHostNetworkAndNewOnesAreIsolated() async throws {
        // The server's own default (isolated), no `--network` flag: a `--network-pool` flag tells the test
        // harness this suite tests isolated networks. The server runs in a test-made namespace (`NetworkLab`),
        // so the pool's addresses and the agents' veths never touch the host's network.
        let lab = try NetworkLab(offset: 3)
        defer { lab.tearDown() }
        let server = TestServer(extraArguments: ["--host", lab.machineAddress, "--network-pool", "10.203.0.0/24"], wrapper: lab.wrapper)
        server.connectHost = lab.machineAddress
        try await server.start()
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
        // `host` is the server's own network: here the lab's machine namespace.
        let serverNamespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(server.pid)/ns/net")
        #expect(serverNamespace != (try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")), "the server runs in the lab")
        #expect(try await server.bash(legacy, "readlink /proc/self/ns/net").string("stdout") == serverNamespace + "\n", "on the server's (host) network")
        let fresh = newAgent()
        #expect(try await server.bash(fresh, interfaces).string("stdout") == "eth0 lo ")
        #expect(try await server.agentInfo(fresh).string("network") == "isolated")
    }
}
