@testable import AgentSandbox
import Foundation
import Testing

/// Agent rows, API keys and the audit log: every behaviour against SQLite and PostgreSQL alike.
@Suite struct StoreAgentContractTests {
    @Test(arguments: StoreEngine.all)
    func provisionCreatesOnceThenReturnsTheSameAgent(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let store = try await fixture.open()
        let (first, created) = try await store.provisionAgent(id: "a1", uids: StoreFixture.uids, settings: #"{"network":"none"}"#)
        #expect(created && first.uid == StoreFixture.uids.lowerBound && first.state == .active)
        let (again, createdAgain) = try await store.provisionAgent(id: "a1", uids: StoreFixture.uids)
        #expect(!createdAgain && again.uid == first.uid && again.settings == #"{"network":"none"}"#)
        #expect(try await store.agent(id: "a1")?.uid == first.uid)
        #expect(try await store.agent(id: "nobody") == nil)
    }

    @Test(arguments: StoreEngine.all)
    func concurrentCreatesOfOneIdHaveExactlyOneWinner(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let store = try await fixture.open()
        let results = try await withThrowingTaskGroup(of: (AgentRecord, Bool).self) { group in
            for _ in 0..<16 { group.addTask { try await store.provisionAgent(id: "raced", uids: StoreFixture.uids) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter(\.1).count == 1, "exactly one call created the agent")
        #expect(Set(results.map(\.0.uid)).count == 1, "every caller sees the winner's uid")
        #expect(try await store.liveAgents().map(\.id) == ["raced"])
    }

    @Test(arguments: StoreEngine.all)
    func uidsFollowTheCursorAndAFreedUidIsReusedLast(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let store = try await fixture.open()
        let base = StoreFixture.uids.lowerBound
        let a = try await store.provisionAgent(id: "a", uids: StoreFixture.uids).0
        let b = try await store.provisionAgent(id: "b", uids: StoreFixture.uids).0
        try await store.setState(.deleted, of: "a")
        #expect(try await store.agent(id: "a")?.uid == nil, "a deleted agent frees its uid")
        let c = try await store.provisionAgent(id: "c", uids: StoreFixture.uids).0
        #expect([a.uid, b.uid, c.uid] == [base, base + 1, base + 2], "the freed uid is not handed out at once")
        let (revived, created) = try await store.provisionAgent(id: "a", uids: StoreFixture.uids)
        #expect(created && revived.uid == base + 3 && revived.state == .active, "a deleted agent is revived with a new uid")
    }

    @Test(arguments: StoreEngine.all)
    func anExhaustedUidRangeIsRefusedWithItsCode(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let store = try await fixture.open()
        _ = try await store.provisionAgent(id: "x", uids: 5000...5001)
        _ = try await store.provisionAgent(id: "y", uids: 5000...5001)
        await #expect(throws: ToolError.self) { try await store.provisionAgent(id: "z", uids: 5000...5001) }
        do { _ = try await store.provisionAgent(id: "z", uids: 5000...5001) } catch let error as ToolError {
            #expect(error.code == .uidRangeExhausted)
        }
    }

    @Test(arguments: StoreEngine.all)
    func statesSettingsListingsAndCounts(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let store = try await fixture.open()
        for id in ["p", "q", "r"] { _ = try await store.provisionAgent(id: id, uids: StoreFixture.uids) }
        try await store.setState(.suspended, of: "q")
        try await store.setState(.deleted, of: "r")
        try await store.setSettings(#"{"k":1}"#, of: "p")
        #expect(try await store.agent(id: "p")?.settings == #"{"k":1}"#)
        try await store.setSettings(nil, of: "p")
        #expect(try await store.agent(id: "p")?.settings == nil)
        #expect(try await store.liveAgents().map(\.id) == ["p", "q"], "deleted agents are not live; oldest first")
        #expect(try await store.agentCountByState() == ["active": 1, "suspended": 1, "deleted": 1])
        try await store.forgetAgent(id: "p")
        #expect(try await store.agent(id: "p") == nil, "a forgotten agent leaves no row")
    }

    @Test(arguments: StoreEngine.all)
    func apiKeysAreStoredOnceListedInOrderAndRevoked(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let store = try await fixture.open()
        try await store.insertAPIKey(hash: "h1", name: "first")
        try await store.insertAPIKey(hash: "h2", name: "second")
        try await store.insertAPIKey(hash: "h1", name: "again")
        let keys = try await store.apiKeys()
        #expect(keys.map(\.name) == ["first", "second"], "a stored hash is kept as it was")
        #expect(Set(try await store.apiKeyHashes()) == ["h1", "h2"])
        #expect(try await store.deleteAPIKey(id: keys[0].id!))
        #expect(try await !store.deleteAPIKey(id: keys[0].id!), "a second revoke finds nothing")
        #expect(try await store.apiKeyHashes() == ["h2"])
    }

    @Test(arguments: StoreEngine.all)
    func auditBatchesKeepOrderAndBumpLastUse(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let store = try await fixture.open()
        _ = try await store.provisionAgent(id: "u", uids: StoreFixture.uids)
        let t0 = StoreSamples.now
        try await store.recordAudit([
            AuditEntry(agentId: "u", tool: "bash", startedAt: t0.addingTimeInterval(5), durationMs: 1.5, status: "ok", bytes: 3),
            AuditEntry(agentId: "u", tool: "file_read", startedAt: t0.addingTimeInterval(2), durationMs: 0.5, status: "FILE_NOT_FOUND", bytes: 0),
        ])
        try await store.recordAudit([])
        let entries = try await store.auditEntries(agent: "u")
        #expect(entries.map(\.tool) == ["bash", "file_read"] && entries.map(\.bytes) == [3, 0] && entries[0].durationMs == 1.5)
        #expect(try await store.agent(id: "u")?.lastUsedAt == t0.addingTimeInterval(5), "last use is the latest call of the batch")
    }
}
