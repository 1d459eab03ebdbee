import Foundation
import Testing

/// How an exec session ends, as the API reports it: one rule for every signal, and a foreground
/// stream's command ends with its client.
@Suite(.enabled(if: isRoot, "needs root to switch uids"), .serialized)
struct ExecEndStateTests {
    @Test(arguments: [("SIGTERM", 15), ("SIGINT", 2), ("SIGHUP", 1), ("SIGKILL", 9)])
    func aSessionEndedBySignalIsKilledWithThatSignal(signal: String, number: Int) async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let session = try await server.startSession(agent, "echo up; sleep 1000")
        // Signal once the shell runs `sleep` (its output is in), not while it is still starting.
        let deadline = Date().addingTimeInterval(10)
        while try await server.session(agent, session).int("stdout_bytes") == 0, Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let sent = try await server.killSession(agent, session, signal)
        #expect(sent.string("signal_sent") == signal)
        let waited = try await server.wait(agent, session, timeout: 10)
        #expect(waited.string("state") == "killed", "\(waited.text)")
        #expect(waited.string("signal") == signal)
        #expect(waited.int("exit_code") == 128 + number)
        let listed = try await server.sessions(agent).first { $0["session_id"] as? String == session }
        #expect(listed?["state"] as? String == "killed" && listed?["signal"] as? String == signal)
    }

    @Test func aNormalExitIsExitedWithItsCodeAndNoSignal() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        // The command handles TERM itself and exits normally: that is an exit, not a kill.
        let trapped = try await server.startSession(agent, "trap 'exit 3' TERM; sleep 100 & wait")
        try await Task.sleep(for: .milliseconds(300))
        _ = try await server.killSession(agent, trapped, "SIGTERM")
        let waited = try await server.wait(agent, trapped, timeout: 10)
        #expect(waited.string("state") == "exited", "\(waited.text)")
        #expect(waited.int("exit_code") == 3)
        #expect(waited.json["signal"] is NSNull)
        let plain = try await server.startSession(agent, "exit 143")
        let ended = try await server.wait(agent, plain, timeout: 10)
        #expect(ended.string("state") == "exited" && ended.int("exit_code") == 143, "an exit code of 143 is not a signal")
        #expect(ended.json["signal"] is NSNull)
    }

    @Test func aForegroundStreamWhoseClientLeftEndsItsCommandWithinASecond() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let uid = try await server.uid(of: agent)
        let body = try JSONSerialization.data(withJSONObject: ["command": "echo started; sleep 60"])
        let client = try SSEClient(server, "/v1/agents/\(agent)/exec", method: "POST", body: body)
        #expect(client.status == 200)
        let first = try await offPool { try client.next() }
        #expect(first?.data.hasPrefix("started") == true)
        #expect(!processes(ownedBy: uid).isEmpty, "the command runs while the client listens")
        client.close()
        let left = Date()
        #expect(await eventually(within: 1) { processes(ownedBy: uid).isEmpty }, "the command ends with its client")
        #expect(Date().timeIntervalSince(left) < 1.5)
        let session = try await server.sessions(agent).first
        #expect(session?["state"] as? String == "killed")
    }
}
