import Foundation
import GRDB

/// One public preview link: a hash of its token (the token itself is never stored), the agent and port
/// it opens, and its lifetime.
public struct PreviewLinkRecord: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "preview_links"
    /// SHA-256 of the token, lower-case hex.
    public let id: String
    public let agentId: String
    public let port: Int
    public let createdAt: Date
    public let expiresAt: Date?
    public var revokedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, port
        case agentId = "agent_id", createdAt = "created_at", expiresAt = "expires_at", revokedAt = "revoked_at"
    }

    /// Not revoked and not past its expiry at `now`.
    public func isLive(at now: Date = Date()) -> Bool {
        revokedAt == nil && (expiresAt.map { $0 > now } ?? true)
    }
}

/// The preview_links table (the same columns in the PostgreSQL store) and its operations.
extension SQLiteStore {
    /// Migration "v10: preview links" (as main shipped it; "v11: agent foreign keys" follows).
    static func registerPreviewLinksMigration(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v10: preview links") { db in
            try db.create(table: "preview_links") { table in
                table.primaryKey("id", .text)
                table.column("agent_id", .text).notNull().indexed().references("agents", column: "id", onDelete: .cascade)
                table.column("port", .integer).notNull()
                table.column("created_at", .datetime).notNull()
                table.column("expires_at", .datetime)
                table.column("revoked_at", .datetime)
            }
        }
    }

    public func insertPreviewLink(_ record: PreviewLinkRecord) async throws {
        try await pool.write { db in try record.insert(db) }
    }

    public func previewLink(id: String) async throws -> PreviewLinkRecord? {
        try await pool.read { db in try PreviewLinkRecord.fetchOne(db, key: id) }
    }

    public func revokePreviewLink(id: String, agent: String, at now: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE preview_links SET revoked_at = ? WHERE id = ? AND agent_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
                arguments: [now, id, agent, now])
            return db.changesCount > 0
        }
    }

    public func livePreviewLinks(agent: String, at now: Date) async throws -> [PreviewLinkRecord] {
        try await pool.read { db in
            try PreviewLinkRecord.fetchAll(
                db, sql: "SELECT * FROM preview_links WHERE agent_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at DESC",
                arguments: [agent, now])
        }
    }
}
