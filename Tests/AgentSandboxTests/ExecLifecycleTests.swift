import Foundation
import Testing

/// Exec session lifecycle: signals to the whole tree, the per-agent limit, listing, agent suspend/delete,
/// server restart (`lost`) and errors.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct ExecLifecycleTests {
    @Test func sigtermIsTrappedSigkillEndsTheWholeTree() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let uid = try await server.uid(of: agent)
        let session = try await server.startSession(agent, "trap '' TERM; setsid sleep 100 & sleep 100")
        #expect(await eventually(within: 5) { processes(ownedBy: uid).count >= 3 })
        let term = try await server.killSession(agent, session, "SIGTERM")
        #expect(term.string("signal_sent") == "SIGTERM")
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await server.session(agent, session).bool("running") == true, "TERM is trapped")
        _ = try await server.killSession(agent, session, 9)
        let waited = try await server.wait(agent, session, timeout: 10)
        #expect(waited.string("state") == "killed")
        #expect(waited.int("exit_code") == 137)
        #expect(waited.string("signal") == "SIGKILL")
        #expect(await eventually(within: 3) { processes(ownedBy: uid).isEmpty }, "no process of the session is left")
        let again = try await server.killSession(agent, session, "SIGKILL")
        #expect(again.status == 409)
        #expect(again.string("error_code") == "SESSION_NOT_RUNNING")
    }

    @Test func whenTheMainProcessExitsItsLeftoversAreKilled() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let uid = try await server.uid(of: agent)
        let session = try await server.startSession(agent, "setsid sleep 100 & echo started")
        let waited = try await server.wait(agent, session)
        #expect(waited.string("stdout") == "started\n")
        #expect(waited.int("exit_code") == 0)
        #expect(await eventually(within: 3) { processes(ownedBy: uid).isEmpty })
    }

    @Test func aBackgroundTimeoutKillsTheTreeWithExitCode124() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let session = try await server.startSession(agent, "echo before; sleep 30", ["timeout": 1])
        let waited = try await server.wait(agent, session, timeout: 10)
        #expect(waited.int("exit_code") == 124)
        #expect(waited.bool("timed_out") == true)
        #expect(waited.string("stdout") == "before\n")
    }

    @Test func runningSessionsPerAgentAreLimitedWith429() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let uid = try await server.uid(of: agent)
        var ids: [String] = []
        for _ in 0..<8 { ids.append(try await server.startSession(agent, "sleep 60")) }
        let refused = try await server.exec(agent, ["command": "true", "background": true])
        #expect(refused.status == 429)
        #expect(refused.string("error_code") == "TOO_MANY_REQUESTS")
        let deleted = try await server.request("DELETE", server.sessionPath(agent, ids[0]))
        #expect(deleted.status == 200)
        #expect(try await server.session(agent, ids[0]).status == 404)
        ids[0] = try await server.startSession(agent, "sleep 60")
        // Deleting the agent ends every session.
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)").status == 200)
        #expect(await eventually(within: 5) { processes(ownedBy: uid).isEmpty })
    }

    @Test func suspendingAnAgentEndsItsSessionsButKeepsThemListed() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let session = try await server.startSession(agent, "sleep 60")
        #expect(try await server.request("POST", "/v1/agents/\(agent)/suspend").status == 200)
        let state = try await server.session(agent, session)
        #expect(state.bool("running") == false)
        #expect(state.string("state") == "killed")
        #expect(try await server.exec(agent, ["command": "true", "background": true]).status == 409)
        _ = try await server.request("POST", "/v1/agents/\(agent)/resume")
    }

    @Test func listShowsRunningAndFinishedAndLostAfterRestart() async throws {
        let server = try await TestServer().start()
        defer { server.stop() }
        let agent = newAgent()
        let uid = try await server.uid(of: agent)
        let finished = try await server.startSession(agent, "echo done")
        _ = try await server.wait(agent, finished)
        let running = try await server.startSession(agent, "sleep 100")
        let listed = try await server.sessions(agent)
        #expect(listed.map { $0["session_id"] as? String } == [finished, running])
        #expect(listed.map { $0["running"] as? Bool } == [false, true])
        #expect(listed.first?["exit_code"] as? Int == 0)
        #expect(listed.first?["command"] as? String == "echo done")

        try await server.restart(signal: SIGKILL)  // a crash: the new server finds it running in SQLite
        var after = try await server.sessions(agent)
        #expect(after.map { $0["state"] as? String } == ["exited", "lost"])
        #expect(await eventually(within: 3) { processes(ownedBy: uid).isEmpty }, "the sweep killed the orphan")
        #expect(try await server.session(agent, running).string("state") == "lost")
        #expect(try await server.request("GET", server.sessionPath(agent, running, "/stream")).status == 409)

        let graceful = try await server.startSession(agent, "trap '' TERM; sleep 100")
        try await server.restart()  // SIGTERM: sessions are ended (TERM, then KILL) before the server exits
        after = try await server.sessions(agent)
        #expect(after.first { $0["session_id"] as? String == graceful }?["state"] as? String == "lost")
        #expect(processes(ownedBy: uid).isEmpty)
    }

    @Test func badRequestsGetClearErrors() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        #expect(try await server.session(agent, "sess_nope").status == 404)
        _ = try await server.uid(of: agent)
        let missing = try await server.session(agent, "sess_nope")
        #expect(missing.string("error_code") == "SESSION_NOT_FOUND")
        let session = try await server.startSession(agent, "sleep 30")
        #expect(try await server.killSession(agent, session, "SIGBOGUS").status == 400)
        let stdin = try await server.post(server.sessionPath(agent, session, "/stdin"), json: ["data": "x"])
        #expect(stdin.string("error_code") == "STDIN_CLOSED")
        #expect(try await server.exec(agent, ["command": "", "background": true]).status == 400)
        #expect(try await server.exec(agent, ["command": "pwd", "cwd": "../.."]).string("error_code") == "PATH_OUTSIDE_WORKSPACE")
        #expect(try await server.request("GET", server.sessionPath(agent, session, "/ws")).status == 400)
        #expect(try await server.request("DELETE", server.sessionPath(agent, session)).status == 200)
    }
}
