import Foundation
import PostgresNIO

/// Shares and their content blobs in PostgreSQL. A blob row is one node's file (`(node_id, sha256)`);
/// every transaction that changes this node's shares or blobs first takes the node's share lock
/// (`pg_advisory_xact_lock`), so a share made while another is dropped can never see a blob row whose
/// file is about to go — the serialisation SQLite gives `SQLiteStore` for free.
extension PostgresStore {
    static let shareColumns = "token, agent_id, path, filename, size, sha256, content_type, created_at, expires_at, legacy_file"
    typealias ShareRow = (String, String, String, String, Int64, String, String, Date, Date, String?)

    static func shareRecord(_ row: ShareRow) -> ShareRecord {
        ShareRecord(token: row.0, agentId: row.1, path: row.2, filename: row.3, size: row.4, sha256: row.5,
                    contentType: row.6, createdAt: row.7, expiresAt: row.8, legacyFile: row.9)
    }

    func lockShares(_ connection: PostgresConnection) async throws {
        try await execute("SELECT pg_advisory_xact_lock(hashtextextended('agent-sandbox shares ' || \(node), 0))", on: connection)
    }

    public func insertShare(_ record: ShareRecord, quota: ShareQuota, place: @escaping @Sendable () throws -> Void) async throws {
        try await transaction { connection in
            try await lockShares(connection)
            let usage = try await shareUsage(agent: record.agentId, on: connection)
            let known = try await !values("SELECT 1 FROM shares WHERE agent_id = \(record.agentId) AND sha256 = \(record.sha256) LIMIT 1",
                                        as: Int32.self, on: connection).isEmpty
            try quota.check(usage, newBytes: known ? 0 : record.size, agent: record.agentId)
            try await execute("""
                INSERT INTO share_blobs (node_id, sha256, size, refs, created_at) VALUES (\(node), \(record.sha256), \(record.size), 0, \(record.createdAt))
                ON CONFLICT (node_id, sha256) DO NOTHING
                """, on: connection)
            try place()
            try await execute("""
                INSERT INTO shares (token, agent_id, node_id, path, filename, size, sha256, content_type, created_at, expires_at, legacy_file)
                VALUES (\(record.token), \(record.agentId), \(node), \(record.path), \(record.filename), \(record.size), \(record.sha256),
                        \(record.contentType), \(record.createdAt), \(record.expiresAt), \(record.legacyFile))
                """, on: connection)
        }
    }

    public func shareUsage(agent: String) async throws -> ShareUsage {
        try await shareUsage(agent: agent, on: nil)
    }

    func shareUsage(agent: String, on connection: PostgresConnection?) async throws -> ShareUsage {
        let row = try await rows("""
            SELECT (SELECT COUNT(*) FROM shares WHERE agent_id = \(agent)),
                   (SELECT COALESCE(SUM(b.size), 0)::int8 FROM share_blobs b
                    WHERE (b.node_id, b.sha256) IN (SELECT node_id, sha256 FROM shares WHERE agent_id = \(agent)))
            """, as: (Int64, Int64).self, on: connection).first
        return ShareUsage(count: Int(row?.0 ?? 0), bytes: row?.1 ?? 0)
    }

    public func sharedSizes(agent: String) async throws -> Set<Int64> {
        Set(try await values("SELECT DISTINCT size FROM shares WHERE agent_id = \(agent)", as: Int64.self))
    }

    public func share(token: String) async throws -> ShareRecord? {
        try await rows("SELECT \(unescaped: Self.shareColumns) FROM shares WHERE token = \(token)", as: ShareRow.self).first.map(Self.shareRecord)
    }

    public func liveShares(agent: String, now: Date) async throws -> [ShareRecord] {
        try await rows("""
            SELECT \(unescaped: Self.shareColumns) FROM shares WHERE agent_id = \(agent) AND expires_at > \(now) ORDER BY created_at DESC
            """, as: ShareRow.self).map(Self.shareRecord)
    }

    public func deleteShare(token: String, agent: String, retire: @escaping @Sendable (FreedShareFiles) throws -> Void) async throws -> ShareRecord? {
        try await removeShares("DELETE FROM shares WHERE token = \(token) AND agent_id = \(agent) RETURNING \(unescaped: Self.shareColumns)", retire: retire).first
    }

    public func deleteShares(agent: String, retire: @escaping @Sendable (FreedShareFiles) throws -> Void) async throws -> [ShareRecord] {
        try await removeShares("DELETE FROM shares WHERE agent_id = \(agent) RETURNING \(unescaped: Self.shareColumns)", retire: retire)
    }

    public func deleteExpiredShares(now: Date, retire: @escaping @Sendable (FreedShareFiles) throws -> Void) async throws -> [ShareRecord] {
        try await removeShares("DELETE FROM shares WHERE node_id = \(node) AND expires_at <= \(now) RETURNING \(unescaped: Self.shareColumns)", retire: retire)
    }

    /// Runs `delete` (a `DELETE … RETURNING` of share columns) and drops this node's blob rows left
    /// without a share, then hands their files to `retire` before the transaction commits.
    private func removeShares(_ delete: PostgresQuery, retire: @escaping @Sendable (FreedShareFiles) throws -> Void) async throws -> [ShareRecord] {
        try await transaction { connection in
            try await lockShares(connection)
            let records = try await rows(delete, as: ShareRow.self, on: connection).map(Self.shareRecord)
            guard !records.isEmpty else { return [] }
            let blobs = try await values("DELETE FROM share_blobs WHERE node_id = \(node) AND refs = 0 RETURNING sha256", as: String.self, on: connection)
            let freed = FreedShareFiles(blobs: blobs, legacyFiles: records.compactMap(\.legacyFile))
            if !freed.isEmpty { try retire(freed) }
            return records.sorted { $0.createdAt > $1.createdAt }
        }
    }

    public func legacyShares() async throws -> [ShareRecord] {
        try await rows("SELECT \(unescaped: Self.shareColumns) FROM shares WHERE node_id = \(node) AND legacy_file IS NOT NULL",
                       as: ShareRow.self).map(Self.shareRecord)
    }

    public func markAdopted(token: String) async throws {
        try await execute("UPDATE shares SET legacy_file = NULL WHERE token = \(token)")
    }

    public func shareBlobHashes() async throws -> Set<String> {
        Set(try await values("SELECT sha256 FROM share_blobs WHERE node_id = \(node)", as: String.self))
    }

    public func legacyShareFiles() async throws -> Set<String> {
        Set(try await values("SELECT legacy_file FROM shares WHERE node_id = \(node) AND legacy_file IS NOT NULL", as: String.self))
    }
}

