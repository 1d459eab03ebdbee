@testable import AgentSandbox
import Foundation
import Synchronization
import Testing

/// Exec sessions, shares and snapshots, and what goes with an agent's row: both engines.
@Suite struct StoreRecordContractTests {
    @Test(arguments: StoreEngine.all)
    func execSessionsAreRecordedFinishedMarkedLostAndForgotten(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let store = try await fixture.open()
        _ = try await store.provisionAgent(id: "e", uids: StoreFixture.uids)
        let t0 = StoreSamples.now
        let (one, two, three) = (StoreSamples.session("s1", agent: "e", startedAt: t0), StoreSamples.session("s2", agent: "e", startedAt: t0.addingTimeInterval(1)),
                                 StoreSamples.session("s3", agent: "e", startedAt: t0.addingTimeInterval(2)))
        for session in [three, one, two] { try await store.insertExecSession(session) }
        #expect(try await store.execSessions(agent: "e").map(\.id) == ["s1", "s2", "s3"], "oldest first")
        var ended = one
        (ended.state, ended.exitCode, ended.timedOut, ended.finishedAt) = ("exited", 3, true, t0.addingTimeInterval(10))
        try await store.finishExecSession(ended)
        #expect(try await store.execSession(id: "s1") == ended)
        #expect(try await store.markRunningExecSessionsLost(at: t0.addingTimeInterval(20)) == 2)
        #expect(try await store.execSession(id: "s2")?.state == "lost")
        try await store.deleteExecSessions(finishedBefore: t0.addingTimeInterval(15))
        #expect(try await store.execSessions(agent: "e").map(\.id) == ["s2", "s3"], "only sessions that ended before the date go")
        try await store.deleteExecSessions(ids: ["s2"])
        try await store.deleteExecSessions(ids: [])
        #expect(try await store.execSession(id: "s2") == nil)
        try await store.deleteExecSessions(agent: "e")
        #expect(try await store.execSessions(agent: "e").isEmpty)
    }

    @Test(arguments: StoreEngine.all)
    func sharesCountDistinctContentAndRetireABlobWithItsLastShare(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let store = try await fixture.open()
        _ = try await store.provisionAgent(id: "s", uids: StoreFixture.uids)
        let placed = Atomic<Int>(0)
        let (a, b, c) = (StoreSamples.share(agent: "s", content: "alpha"), StoreSamples.share(agent: "s", content: "alpha"),
                         StoreSamples.share(agent: "s", content: "beta!!", expiresIn: -1))
        for share in [a, b, c] { try await store.insertShare(share, quota: StoreSamples.roomyShares) { placed.add(1, ordering: .relaxed) } }
        #expect(placed.load(ordering: .relaxed) == 3, "place runs inside every insert")
        #expect(try await store.shareUsage(agent: "s") == ShareUsage(count: 3, bytes: 11), "one content counts once")
        #expect(try await store.sharedSizes(agent: "s") == [5, 6])
        #expect(try await store.share(token: a.token) == a)
        #expect(Set(try await store.liveShares(agent: "s", now: StoreSamples.now).map(\.token)) == [a.token, b.token], "an expired share is not live")
        #expect(try await store.shareBlobHashes() == [a.sha256, c.sha256])
        let freed = Mutex<[FreedShareFiles]>([])
        let retire: @Sendable (FreedShareFiles) throws -> Void = { files in freed.withLock { $0.append(files) } }
        #expect(try await store.deleteShare(token: a.token, agent: "other", retire: retire) == nil, "another agent's token")
        #expect(try await store.deleteShare(token: a.token, agent: "s", retire: retire) == a)
        #expect(freed.withLock { $0.isEmpty }, "the blob still has a share")
        #expect(try await store.deleteExpiredShares(now: StoreSamples.now, retire: retire).map(\.token) == [c.token])
        #expect(try await store.deleteShares(agent: "s", retire: retire).map(\.token) == [b.token])
        #expect(freed.withLock { $0.flatMap(\.blobs) } == [c.sha256, a.sha256], "each blob is retired with its last share")
        #expect(try await store.shareBlobHashes().isEmpty)
        #expect(try await store.shareUsage(agent: "s") == ShareUsage())
    }

    @Test(arguments: StoreEngine.all)
    func aShareOverQuotaIsRefusedBeforeItsFileIsPlaced(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let store = try await fixture.open()
        _ = try await store.provisionAgent(id: "q", uids: StoreFixture.uids)
        let quota = ShareQuota(maxShares: 10, maxBytes: 8)
        try await store.insertShare(StoreSamples.share(agent: "q", content: "12345"), quota: quota) {}
        let placed = Atomic<Bool>(false)
        do {
            try await store.insertShare(StoreSamples.share(agent: "q", content: "67890"), quota: quota) { placed.store(true, ordering: .relaxed) }
            Issue.record("a share past the byte quota was accepted")
        } catch let error as ToolError {
            #expect(error.code == .shareQuotaExceeded)
        }
        let wasPlaced = placed.load(ordering: .relaxed)
        #expect(!wasPlaced)
        try await store.insertShare(StoreSamples.share(agent: "q", content: "12345"), quota: quota) {}
        #expect(try await store.shareUsage(agent: "q") == ShareUsage(count: 2, bytes: 5), "the same content again adds no bytes")
    }

    @Test(arguments: StoreEngine.all)
    func legacySharesAreListedUntilAdopted(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let store = try await fixture.open()
        _ = try await store.provisionAgent(id: "l", uids: StoreFixture.uids)
        let old = StoreSamples.share(agent: "l", content: "old", legacyFile: "0f1e")
        try await store.insertShare(old, quota: StoreSamples.roomyShares) {}
        #expect(try await store.legacyShares().map(\.token) == [old.token])
        #expect(try await store.legacyShareFiles() == ["0f1e"])
        try await store.markAdopted(token: old.token)
        #expect(try await store.legacyShares().isEmpty)
        #expect(try await store.share(token: old.token)?.legacyFile == nil)
    }

    @Test(arguments: StoreEngine.all)
    func snapshotsKeepTheirQuotaAndOwner(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let store = try await fixture.open()
        _ = try await store.provisionAgent(id: "n", uids: StoreFixture.uids)
        let quota = SnapshotQuota(maxSnapshots: 2, maxBytes: 100)
        let (first, second) = (StoreSamples.snapshot(agent: "n", size: 30), StoreSamples.snapshot(agent: "n", size: 40, createdAt: StoreSamples.now.addingTimeInterval(1)))
        try await store.insertSnapshot(first, quota: quota)
        try await store.insertSnapshot(second, quota: quota)
        await #expect(throws: ToolError.self) { try await store.insertSnapshot(StoreSamples.snapshot(agent: "n", size: 1), quota: quota) }
        #expect(try await store.snapshotUsage(agent: "n") == SnapshotUsage(count: 2, bytes: 70))
        #expect(try await store.snapshots(agent: "n") == [first, second])
        #expect(try await store.snapshot(id: first.id) == first)
        #expect(try await store.snapshotBlobKeys() == [first.blobKey, second.blobKey])
        #expect(try await store.deleteSnapshot(id: first.id, agent: "other") == nil, "another agent cannot delete it")
        #expect(try await store.deleteSnapshot(id: first.id, agent: "n") == first)
        try await store.setState(.deleted, of: "n")
        #expect(try await store.agentsWithSnapshotsButDeleted() == ["n"])
        #expect(try await store.deleteSnapshots(agent: "n") == [second])
        #expect(try await store.agentsWithSnapshotsButDeleted().isEmpty)
    }

    @Test(arguments: StoreEngine.all)
    func deletingAnAgentsRowCascadesToEverythingItOwns(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let store = try await fixture.open()
        for id in ["gone", "kept"] {
            _ = try await store.provisionAgent(id: id, uids: StoreFixture.uids)
            try await store.insertExecSession(StoreSamples.session("\(id)-session", agent: id))
            try await store.insertShare(StoreSamples.share(agent: id, content: "c-\(id)"), quota: StoreSamples.roomyShares) {}
            try await store.insertSnapshot(StoreSamples.snapshot(agent: id), quota: StoreSamples.roomySnapshots)
        }
        try fixture.sql("INSERT INTO preview_links (id, agent_id, port, created_at) VALUES ('p-gone', 'gone', 8000, '2026-01-01 00:00:00')")
        // Straight to the schema, past the store: the foreign keys do the work.
        try fixture.sql("DELETE FROM agents WHERE id = 'gone'")
        #expect(try await store.execSession(id: "gone-session") == nil)
        #expect(try await store.snapshots(agent: "gone").isEmpty)
        #expect(try await store.shareUsage(agent: "gone") == ShareUsage())
        #expect(try await store.liveShares(agent: "gone", now: StoreSamples.now).isEmpty)
        #expect(try fixture.sql("SELECT COUNT(*) FROM preview_links") == "0")
        #expect(try await store.execSession(id: "kept-session") != nil)
        #expect(try await store.snapshots(agent: "kept").count == 1)
        #expect(try await store.shareUsage(agent: "kept").count == 1)
        await #expect(throws: (any Error).self, "a session of no agent is refused by the schema") {
            try await store.insertExecSession(StoreSamples.session(agent: "ghost"))
        }
    }
}
