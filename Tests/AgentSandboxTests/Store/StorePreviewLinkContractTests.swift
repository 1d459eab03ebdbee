@testable import AgentSandbox
import Foundation
import Testing

/// Preview links (`/p/{token}`) on both engines, and how a gateway finds the node of a link or a snapshot.
@Suite struct StorePreviewLinkContractTests {
    static func link(_ token: String, agent: String, port: Int = 3000, age: TimeInterval = 0, expiresIn: TimeInterval? = 3600) -> PreviewLinkRecord {
        let created = StoreSamples.now.addingTimeInterval(-age)
        return PreviewLinkRecord(id: SHA256Hasher.hex(token), agentId: agent, port: port, createdAt: created,
                                 expiresAt: expiresIn.map { StoreSamples.now.addingTimeInterval($0) }, revokedAt: nil)
    }

    @Test(arguments: StoreEngine.all)
    func linksAreFoundByTokenHashListedWhileLiveAndRevokedOnlyByTheirAgent(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let store = try await fixture.open()
        _ = try await store.provisionAgent(id: "p", uids: StoreFixture.uids)
        let (old, new, forever, expired) = (Self.link("t-old", agent: "p", age: 20), Self.link("t-new", agent: "p", port: 8080, age: 10),
                                            Self.link("t-forever", agent: "p", age: 30, expiresIn: nil), Self.link("t-expired", agent: "p", expiresIn: -1))
        for link in [old, new, forever, expired] { try await store.insertPreviewLink(link) }
        #expect(try await store.previewLink(id: new.id) == new)
        #expect(try await store.previewLink(id: SHA256Hasher.hex("unknown")) == nil)
        #expect(try await store.livePreviewLinks(agent: "p", at: StoreSamples.now).map(\.id) == [new.id, old.id, forever.id], "live ones, newest first")
        #expect(try await !store.revokePreviewLink(id: old.id, agent: "someone-else", at: StoreSamples.now), "another agent's link")
        #expect(try await !store.revokePreviewLink(id: expired.id, agent: "p", at: StoreSamples.now), "an expired link is not live")
        #expect(try await store.revokePreviewLink(id: old.id, agent: "p", at: StoreSamples.now))
        #expect(try await !store.revokePreviewLink(id: old.id, agent: "p", at: StoreSamples.now), "revoked once")
        #expect(try await store.previewLink(id: old.id)?.revokedAt == StoreSamples.now)
        #expect(try await store.livePreviewLinks(agent: "p", at: StoreSamples.now).map(\.id) == [new.id, forever.id])
    }

    @Test(arguments: StoreEngine.all.filter { $0 == .postgres })
    func aGatewayFindsTheAgentOfAPreviewTokenAndOfASnapshot(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let store = try await fixture.open(node: "node-a")
        let directory = try #require(store as? any ClusterDirectory)
        let agent = UUID().uuidString.lowercased()
        _ = try await store.provisionAgent(id: agent, uids: StoreFixture.uids)
        try await store.insertPreviewLink(Self.link("the-token", agent: agent))
        let snapshot = StoreSamples.snapshot(agent: agent)
        try await store.insertSnapshot(snapshot, quota: SnapshotQuota(maxSnapshots: 10, maxBytes: 1 << 30))
        #expect(try await directory.previewLinkAgent(token: "the-token")?.rawValue == agent)
        #expect(try await directory.previewLinkAgent(token: "another-token") == nil)
        #expect(try await directory.snapshotAgent(id: snapshot.id.uppercased())?.rawValue == agent, "snapshot ids are matched lower-cased")
        #expect(try await directory.snapshotAgent(id: UUID().uuidString) == nil)
    }
}
