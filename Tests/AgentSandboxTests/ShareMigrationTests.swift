import AgentSandbox
import Foundation
import Testing

/// Shares made before content addressing (one `shares/<uuid>` snapshot per share, schema v2) survive the
/// upgrade: start-up adopts each snapshot into the blob tree under its hash, and every link keeps working.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct ShareMigrationTests {
    /// Turns the server's database back into the pre-v7 shares table (as migration "v2: shares" made it).
    static let downgrade = """
        DROP TABLE shares; DROP TABLE share_blobs;
        CREATE TABLE "shares" ("token" TEXT PRIMARY KEY NOT NULL, "agent_id" TEXT NOT NULL, "path" TEXT NOT NULL,
            "filename" TEXT NOT NULL, "blob" TEXT NOT NULL UNIQUE, "size" INTEGER NOT NULL, "sha256" TEXT NOT NULL,
            "content_type" TEXT NOT NULL, "created_at" DATETIME NOT NULL, "expires_at" DATETIME NOT NULL);
        DELETE FROM grdb_migrations WHERE identifier = 'v7: content-addressed shares';
        """

    static func legacyRow(token: String, agent: String, blob: String, content: String) -> String {
        """
        INSERT INTO shares VALUES ('\(token)', '\(agent)', 'old.txt', 'old.txt', '\(blob)', \(content.utf8.count), '\(SHA256Hasher.hex(content))',
            'text/plain; charset=utf-8', strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now', '+1 day'));
        """
    }

    static func newToken() -> String { String((UUID().uuidString + UUID().uuidString).replacingOccurrences(of: "-", with: "").prefix(43)) }

    @Test func preContentAddressingSnapshotsAreAdoptedIntoBlobsAndKeepServing() async throws {
        let server = try await TestServer().start()
        defer { server.stop() }
        let agent = newAgent()
        _ = try await server.bash(agent, "true")
        server.stop()

        let (content, lost) = ("snapshot from an older server \(UUID())\n", "a snapshot whose file is gone \(UUID())")
        let (first, second, missing) = (Self.newToken(), Self.newToken(), Self.newToken())
        let (blobA, blobB, orphan) = (UUID().uuidString.lowercased(), UUID().uuidString.lowercased(), UUID().uuidString.lowercased())
        let store = server.shareStore.path
        for name in [blobA, blobB] { try Data(content.utf8).write(to: server.shareStore.appendingPathComponent(name)) }
        try Data("no row refers to me".utf8).write(to: server.shareStore.appendingPathComponent(orphan))
        let sql = Self.downgrade + Self.legacyRow(token: first, agent: agent, blob: blobA, content: content)
            + Self.legacyRow(token: second, agent: agent, blob: blobB, content: content)
            + Self.legacyRow(token: missing, agent: agent, blob: UUID().uuidString.lowercased(), content: lost)
        let database = server.dataRoot.appendingPathComponent(".agentsandbox/agentsandbox.sqlite").path
        let result = try ArchiveSupport.shell("sqlite3 '\(database)' <<'SQL'\n\(sql)\nSQL\ntouch -d '2 hours ago' '\(store)/\(orphan)'")
        #expect(result.status == 0, "\(result.output)")

        try await server.start()
        let sha = SHA256Hasher.hex(content)
        for token in [first, second] {
            let (status, body, headers) = try await server.download("\(server.baseURL)/s/\(token)/old.txt")
            #expect(status == 200 && body == Data(content.utf8), "a pre-v7 link keeps working")
            #expect(headers["etag"] == "\"\(sha)\"" && headers["content-length"] == String(content.utf8.count))
        }
        #expect(FileManager.default.fileExists(atPath: server.blobPath(sha)), "adopted into the blob tree")
        #expect(!FileManager.default.fileExists(atPath: "\(store)/\(blobA)") && !FileManager.default.fileExists(atPath: "\(store)/\(blobB)"),
                "the two copies became one blob")
        #expect(await eventually(within: 5) { !FileManager.default.fileExists(atPath: "\(store)/\(orphan)") }, "an old snapshot no row uses is swept")
        let listed = try await server.request("GET", "/v1/agents/\(agent)/shares").json["shares"] as? [[String: Any]]
        #expect(Set(listed?.compactMap { $0["token"] as? String } ?? []) == [first, second, missing], "nothing lost")
        #expect(try await server.storage(agent).count == 3)

        #expect(try await server.request("DELETE", "/v1/agents/\(agent)/shares/\(first)").status == 200)
        #expect(try await server.download("\(server.baseURL)/s/\(second)/old.txt").status == 200)
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)/shares/\(second)").status == 200)
        #expect(!FileManager.default.fileExists(atPath: server.blobPath(sha)), "the last revoke removes the adopted blob")
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)/shares/\(missing)").status == 200)
    }
}
