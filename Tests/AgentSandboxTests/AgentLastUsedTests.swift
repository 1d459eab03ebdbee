import Foundation
import Testing

/// `last_used_at` is the same whether an agent is inspected or listed.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct AgentLastUsedTests {
    private func bothViews(_ server: TestServer, _ agent: String) async throws -> (inspected: Any?, listed: Any?) {
        let inspected = try await server.agentInfo(agent).json["last_used_at"]
        let list = try await server.request("GET", "/v1/agents").json["agents"] as? [[String: Any]] ?? []
        return (inspected, list.first { $0["agent_id"] as? String == agent }?["last_used_at"])
    }

    @Test func inspectAndListAgreeBeforeAndAfterCalls() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        #expect(try await server.post("/v1/agents", json: ["agent_id": agent]).status == 201)
        let fresh = try await bothViews(server, agent)
        #expect(fresh.inspected is NSNull && fresh.listed is NSNull, "never used")

        _ = try await server.bash(agent, "true")
        let right = try await bothViews(server, agent)
        #expect(right.inspected as? String != nil, "a call is visible at once")
        #expect(right.inspected as? String == right.listed as? String)

        // A background exec is counted through the audit log only: both views see it after its flush.
        try await Task.sleep(for: .seconds(1.1))
        _ = try await server.startSession(agent, "true")
        try await Task.sleep(for: .milliseconds(600))
        let later = try await bothViews(server, agent)
        #expect(later.inspected as? String == later.listed as? String)
        #expect(later.inspected as? String != right.inspected as? String, "the exec moved last_used_at")
    }
}
