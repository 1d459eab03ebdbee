import Foundation
import Testing

/// The whole server on PostgreSQL (`serve --cluster … --node-id …`) over real HTTP: the functional path
/// end to end, a restart that keeps everything, a key made with `key create --cluster` valid on the node,
/// and a bad `--cluster` as one sentence at start-up.
@Suite(.enabled(if: isRoot && TestPostgres.shouldRun, "needs root to switch uids, and PostgreSQL"), .serialized)
struct PostgresServerTests {
    @Test func theServerOnPostgresCreatesRunsSharesSessionsAndDeletes() async throws {
        let database = try await TestPostgres.shared().makeDatabase()
        let server = try await TestServer(extraArguments: ["--cluster", database, "--node-id", "node-e2e"]).start()
        defer { server.stop() }
        let agent = newAgent()
        let created = try await server.post("/v1/agents", json: ["agent_id": agent])
        #expect(created.status == 201 && created.int("uid") == server.uidBase)
        #expect(try await server.post("/v1/agents", json: ["agent_id": agent]).status == 200, "a second create finds it")
        #expect(try await server.bash(agent, "echo hi from $(id -u)").string("stdout") == "hi from \(server.uidBase)\n")
        #expect(try await server.write(agent, "notes.txt", "kept in a workspace\n").status == 200)
        #expect(try await server.read(agent, "notes.txt").string("content") == "kept in a workspace\n")
        let url = try #require(try await server.share(agent, "notes.txt").string("url"))
        let sharePath = try #require(URL(string: url)?.path, "a share URL: \(url)")  // a restart listens on a new port
        let session = try await server.startSession(agent, "echo session; exit 3")
        #expect(try await server.wait(agent, session).int("exit_code") == 3)

        let postgres = try await TestPostgres.shared()
        #expect(try postgres.psql("SELECT node_id, uid FROM agents WHERE id = '\(agent)'", database: database) == "node-e2e|\(server.uidBase)")
        #expect(try postgres.psql("SELECT COUNT(*) FROM shares WHERE agent_id = '\(agent)'", database: database) == "1")
        #expect(try postgres.psql("SELECT state FROM nodes WHERE id = 'node-e2e'", database: database) == "up")

        try await server.restart()
        #expect(try await server.download(server.baseURL + sharePath).body == Data("kept in a workspace\n".utf8), "a share survives a restart")
        #expect((try await server.sessions(agent).first?["exit_code"] as? NSNumber)?.intValue == 3, "so does the session's record")
        #expect(try await server.agentInfo(agent).int("uid") == server.uidBase)
        #expect(await eventually(within: 10) {
            (try? postgres.psql("SELECT COUNT(*) FROM audit_log WHERE agent_id = '\(agent)'", database: database)).flatMap(Int.init) ?? 0 >= 3
        }, "tool calls reach the audit log in PostgreSQL")

        #expect(try await server.request("DELETE", "/v1/agents/\(agent)").status == 200)
        #expect(try await server.download(server.baseURL + sharePath).status == 404, "the agent's shares go with it")
        #expect(try postgres.psql("SELECT COUNT(*) FROM exec_sessions WHERE agent_id = '\(agent)'", database: database) == "0")
        let next = try await server.post("/v1/agents", json: ["agent_id": newAgent()])
        #expect(next.int("uid") == server.uidBase + 1, "the freed uid is not handed out at once")
    }

    @Test func aKeyCreatedInTheClusterDatabaseOpensTheNode() async throws {
        let database = try await TestPostgres.shared().makeDatabase()
        let server = try await TestServer(extraArguments: ["--cluster", database, "--node-id", "node-keys"]).start()
        defer { server.stop() }
        let created = try runCLI(["key", "create", "--cluster", database, "--name", "cluster-key"])
        let key = try #require(created.output.split(separator: "\n").last.map(String.init), "\(created.output)")
        #expect(created.status == 0, "\(created.output)")
        var status = 0
        for _ in 0..<50 where status != 200 {
            status = try await server.request("GET", "/v1/agents", headers: ["x-api-key": key]).status
            if status != 200 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(status == 200, "a key stored in PostgreSQL is valid on the node")
        let listed = try runCLI(["key", "list", "--cluster", database])
        #expect(listed.output.contains("cluster-key"))
    }

    @Test func aBadClusterURLOrAnUnreachableDatabaseIsOneSentence() async throws {
        let data = TestServer.makeDataRoot()
        let common = ["serve", "--port", "0", "--data", data.path, "--uid-base", "399000", "--uid-count", "10", "--disk-bytes", "0",
                      "--schemas", TestServer.repositoryRoot.appendingPathComponent("schemas").path]
        let bad = try runCLI(common + ["--cluster", "not a url", "--node-id", "n1"])
        #expect(bad.status == 2 && bad.output.contains("--cluster must be a URL such as postgres://"), "\(bad.output)")
        let closed = try runCLI(common + ["--cluster", "postgres://sandbox@127.0.0.1:1/sandbox", "--node-id", "n1"])
        #expect(closed.status == 2, "\(closed.output)")
        #expect(closed.output.contains("cannot use the PostgreSQL database postgres://sandbox@127.0.0.1:1/sandbox given by --cluster"), "\(closed.output)")
        #expect(closed.output.split(separator: "\n").count <= 2, "a sentence, not a dump: \(closed.output)")
        let missingNode = try runCLI(common + ["--cluster", "postgres://sandbox@127.0.0.1:1/sandbox"])
        #expect(missingNode.status != 0 && missingNode.output.contains("--node-id"))
    }
}
