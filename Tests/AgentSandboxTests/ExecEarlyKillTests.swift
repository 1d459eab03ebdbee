import Foundation
import Testing

/// A kill sent the moment a background session's start reply arrives is honoured: the sandbox may
/// still be setting up (bubblewrap has not exec'd the command yet), but the signal is never lost.
@Suite(.enabled(if: isRoot, "needs root to switch uids"), .serialized)
struct ExecEarlyKillTests {
    @Test(arguments: ["full", "uid"], ["SIGTERM", "SIGKILL"])
    func aKillRightAfterStartAlwaysEndsTheSession(isolation: String, signal: String) async throws {
        let server = try await TestServer.shared(isolation: isolation)
        let agent = newAgent()
        _ = try await server.bash(agent, "true")  // the agent exists: starts below measure only the session
        for round in 0..<15 {
            let session = try await server.startSession(agent, "sleep 1000")
            let sent = try await server.killSession(agent, session, signal)
            #expect(sent.status == 200, "round \(round): \(sent.text)")
            let waited = try await server.wait(agent, session, timeout: 10)
            #expect(waited.string("state") == "killed", "round \(round): \(waited.text)")
            #expect(waited.string("signal") == signal, "round \(round): \(waited.text)")
            if waited.string("state") != "killed" { _ = try? await server.killSession(agent, session, "SIGKILL") }
        }
    }
}
