import Foundation
import PostgresNIO

/// Preview links in PostgreSQL: the same rows as `SQLiteStore`'s, valid on every node (a gateway sends
/// `/p/{token}/…` to the node of the link's agent).
extension PostgresStore {
    static let previewLinkColumns = "id, agent_id, port, created_at, expires_at, revoked_at"

    public func insertPreviewLink(_ record: PreviewLinkRecord) async throws {
        try await execute("""
            INSERT INTO preview_links (id, agent_id, port, created_at, expires_at, revoked_at)
            VALUES (\(record.id), \(record.agentId), \(Int32(clamping: record.port)), \(record.createdAt), \(record.expiresAt), \(record.revokedAt))
            """)
    }

    public func previewLink(id: String) async throws -> PreviewLinkRecord? {
        try await previewLinks("SELECT \(unescaped: Self.previewLinkColumns) FROM preview_links WHERE id = \(id)").first
    }

    public func revokePreviewLink(id: String, agent: String, at now: Date) async throws -> Bool {
        try await !values("""
            UPDATE preview_links SET revoked_at = \(now)
            WHERE id = \(id) AND agent_id = \(agent) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > \(now))
            RETURNING id
            """, as: String.self).isEmpty
    }

    public func livePreviewLinks(agent: String, at now: Date) async throws -> [PreviewLinkRecord] {
        try await previewLinks("""
            SELECT \(unescaped: Self.previewLinkColumns) FROM preview_links
            WHERE agent_id = \(agent) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > \(now)) ORDER BY created_at DESC
            """)
    }

    private func previewLinks(_ query: PostgresQuery) async throws -> [PreviewLinkRecord] {
        try await rows(query, as: (String, String, Int32, Date, Date?, Date?).self).map { row in
            PreviewLinkRecord(id: row.0, agentId: row.1, port: Int(row.2), createdAt: row.3, expiresAt: row.4, revokedAt: row.5)
        }
    }
}
