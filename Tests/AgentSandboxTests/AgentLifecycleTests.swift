import AgentSandbox
import Foundation
import Testing

/// `/v1/agents`: explicit and implicit creation, listing, deletion.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct AgentLifecycleTests {
    @Test func explicitCreationThenIdempotentRepeat() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent().uppercased()
        let created = try await server.post("/v1/agents", json: ["agent_id": agent])
        #expect(created.status == 201)
        #expect(created.string("agent_id") == agent.lowercased(), "ids are stored lower-case")
        let again = try await server.post("/v1/agents", json: ["agent_id": agent])
        #expect(again.status == 200)
        #expect(again.int("uid") == created.int("uid"))

        var info = stat()
        let workspace = server.workspace(of: agent.lowercased()).path
        #expect(stat(workspace, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)
        #expect(Int(info.st_uid) == created.int("uid"))
        #expect(stat(server.dataRoot.path, &info) == 0)
        #expect(info.st_uid == 0 && info.st_mode & 0o777 == 0o711, "data root is root-owned 0711")
        #expect(stat(server.dataRoot.appendingPathComponent(".agentsandbox/agentsandbox.sqlite").path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600, "the database is 0600")
    }

    @Test func createWithoutIdGeneratesOne() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.request("POST", "/v1/agents")
        #expect(reply.status == 201)
        #expect(UUID(uuidString: reply.string("agent_id") ?? "") != nil)
    }

    @Test func firstToolCallCreatesTheAgentAndListShowsIt() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        #expect(try await server.agentInfo(agent).status == 404)
        _ = try await server.bash(agent, "true")
        let info = try await server.agentInfo(agent)
        #expect(info.status == 200)
        #expect(info.string("state") == "active")
        let list = try await server.request("GET", "/v1/agents")
        let ids = (list.json["agents"] as? [[String: Any]])?.compactMap { $0["agent_id"] as? String } ?? []
        #expect(ids.contains(agent))
    }

    @Test func deleteKillsProcessesRemovesWorkspaceAndFreesTheUid() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "echo x > file")
        let uid = try #require(try await server.agentInfo(agent).int("uid"))
        async let running = server.bash(agent, "sleep 20")
        #expect(await eventually(within: 5) { !processes(ownedBy: uid).isEmpty })
        let deleted = try await server.request("DELETE", "/v1/agents/\(agent)")
        #expect(deleted.status == 200)
        _ = try? await running
        #expect(await eventually(within: 2) { everyProcess(ownedBy: uid).isEmpty }, "nothing of the agent runs, its warm sandbox included")
        #expect(!FileManager.default.fileExists(atPath: server.workspace(of: agent).path))
        let after = try await server.bash(agent, "true")
        #expect(after.status == 410)
        #expect(after.string("error_code") == "AGENT_DELETED")
    }

    @Test func suspendedAgentGets409UntilResumed() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "true")
        #expect(try await server.request("POST", "/v1/agents/\(agent)/suspend").status == 200)
        let refused = try await server.bash(agent, "true")
        #expect(refused.status == 409)
        #expect(refused.string("error_code") == "AGENT_SUSPENDED")
        #expect(try await server.request("POST", "/v1/agents/\(agent)/resume").status == 200)
        #expect(try await server.bash(agent, "echo back").string("stdout") == "back\n")
    }
}

/// `agent-sandbox key create` adds a key that a running server accepts without a restart.
@Suite(.enabled(if: isRoot, "needs root"))
struct KeyCommandTests {
    @Test func createdKeyIsAcceptedByTheRunningServer() async throws {
        let server = try await TestServer().start()
        defer { server.stop() }
        let (status, output) = try runCLI(["key", "create", "--data", server.dataRoot.path, "--name", "test"])
        #expect(status == 0)
        let key = output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("ask_") && key.count == 68)
        try await Task.sleep(for: .milliseconds(1100))
        let reply = try await server.request("GET", "/v1/agents", headers: ["x-api-key": key])
        #expect(reply.status == 200)
        let wrong = try await server.request("GET", "/v1/agents", headers: ["x-api-key": key + "x"])
        #expect(wrong.status == 401)
    }
}

/// `agent-sandbox agent …` and `call` talk to a running server.
@Suite(.enabled(if: isRoot, "needs root"))
struct AdminCommandTests {
    private func cli(_ server: TestServer, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try runCLI(arguments + ["--url", server.baseURL, "--api-key", server.apiKey])
    }

    @Test func agentCreateCallListAndDelete() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let created = try cli(server, ["agent", "create", agent])
        #expect(created.status == 0 && created.output.contains(agent), "\(created.output)")
        let call = try cli(server, ["call", agent, "bash", #"{"command": "echo from-cli"}"#])
        #expect(call.status == 0 && call.output.contains(#""stdout":"from-cli\n""#), "\(call.output)")
        #expect(try cli(server, ["agent", "list"]).output.contains(agent))
        #expect(try cli(server, ["agent", "delete", agent]).status == 0)
        let gone = try cli(server, ["call", agent, "bash", #"{"command": "true"}"#])
        #expect(gone.status != 0 && gone.output.contains("AGENT_DELETED"), "\(gone.output)")
    }
}

/// Every tool call lands in the audit log (batched writes).
@Suite(.enabled(if: isRoot, "needs root"))
struct AuditLogTests {
    @Test func toolCallsAreAudited() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "echo audited")
        _ = try await server.call("file_read", agent: agent, ["path": "missing.txt"])
        let store = try SQLiteStore(path: server.dataRoot.appendingPathComponent(".agentsandbox/agentsandbox.sqlite").path)
        var entries: [AuditEntry] = []
        for _ in 0..<40 where entries.count < 2 {
            try await Task.sleep(for: .milliseconds(100))
            entries = try await store.auditEntries(agent: agent)
        }
        #expect(entries.map(\.tool) == ["bash", "file_read"])
        #expect(entries.map(\.status) == ["ok", "FILE_NOT_FOUND"])
        #expect(entries.first?.bytes == 8, "stdout bytes of the bash call")
    }
}

/// Uids are handed out round-robin: a deleted agent's uid is the last to be used again.
@Suite(.enabled(if: isRoot, "needs root"))
struct UidAllocationTests {
    @Test func aFreedUidIsNotReusedWhileOthersAreFreeAndTheRangeWrapsAround() async throws {
        let server = try await TestServer(extraArguments: ["--uid-count", "3"]).start()
        defer { server.stop() }
        func create() async throws -> (id: String, uid: Int?, status: Int) {
            let reply = try await server.request("POST", "/v1/agents", body: Data("{}".utf8))
            return (reply.string("agent_id") ?? "", reply.int("uid"), reply.status)
        }
        let first = try await create()
        #expect(first.uid == server.uidBase)
        #expect(try await server.request("DELETE", "/v1/agents/\(first.id)").status == 200)
        let second = try await create(), third = try await create()
        #expect(second.uid == server.uidBase + 1, "the freed uid waits its turn")
        #expect(third.uid == server.uidBase + 2)
        let fourth = try await create()
        #expect(fourth.uid == server.uidBase, "after the end of the range, the freed uid comes back")
        let full = try await server.request("POST", "/v1/agents", body: Data("{}".utf8))
        #expect(full.status == 503)
        #expect(full.string("error_code") == "UID_RANGE_EXHAUSTED")
    }
}
