@testable import AgentSandbox
import Foundation
import Testing

/// The SQLite migrations keep the order main shipped: a database made by main has "v10: preview links",
/// and the cluster's "v11: agent foreign keys" comes after it (a shipped migration is never renamed).
@Suite struct SQLiteMigrationOrderTests {
    @Test func previewLinksStayV10AndAgentForeignKeysFollowAsV11() {
        let names = SQLiteStore.migrator().migrations
        #expect(Array(names.suffix(2)) == ["v10: preview links", "v11: agent foreign keys"], "\(names)")
    }

    @Test func aDatabaseWithoutV11KeepsItsRowsAndGainsTheCascades() async throws {
        let fixture = try await StoreFixture(.sqlite)
        defer { Task { await fixture.close() } }
        let store = try await fixture.open()
        _ = try await store.provisionAgent(id: "kept", uids: StoreFixture.uids)
        try await store.insertExecSession(StoreSamples.session("s1", agent: "kept"))
        try await (store as? SQLiteStore)?.insertPreviewLink(
            PreviewLinkRecord(id: "link", agentId: "kept", port: 3000, createdAt: StoreSamples.now, expiresAt: nil, revokedAt: nil))
        // As main leaves it: v10 applied, v11 not yet.
        try fixture.sql("DELETE FROM grdb_migrations WHERE identifier = 'v11: agent foreign keys'")

        let upgraded = try await fixture.open()
        #expect(try fixture.sql("SELECT identifier FROM grdb_migrations ORDER BY rowid DESC LIMIT 1") == "v11: agent foreign keys")
        #expect(try await upgraded.execSession(id: "s1")?.agentId == "kept", "rows survive the table rebuild")
        #expect(try await (upgraded as? SQLiteStore)?.previewLink(id: "link")?.port == 3000)
        try await upgraded.forgetAgent(id: "kept")
        #expect(try fixture.sql("SELECT COUNT(*) FROM exec_sessions") == "0")
        #expect(try fixture.sql("SELECT COUNT(*) FROM preview_links") == "0", "the agent's links go with it")
    }
}
