import Foundation
import GRDB

/// The shares table and its intention-named operations.
///
/// Every operation that drops shares hands the files they free to a `retire` closure that runs inside
/// the write transaction: a share made at the same moment with the same content waits for the
/// transaction, so it can never see a blob row whose file is about to go (or the other way round).
extension SQLiteStore {
    /// Migration "v2: shares", registered after v1.
    static func registerShareMigration(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2: shares") { db in
            try db.create(table: "shares") { table in
                table.primaryKey("token", .text)
                table.column("agent_id", .text).notNull().indexed()
                table.column("path", .text).notNull()
                table.column("filename", .text).notNull()
                table.column("blob", .text).notNull().unique()
                table.column("size", .integer).notNull()
                table.column("sha256", .text).notNull()
                table.column("content_type", .text).notNull()
                table.column("created_at", .datetime).notNull()
                table.column("expires_at", .datetime).notNull().indexed()
            }
        }
    }

    /// Records `record` if it fits the agent's `quota`, in one transaction: checks the quota (content
    /// the agent already shares adds no bytes), creates the blob row if this content is new, calls
    /// `place` to put the snapshot file in place (it must exist when the transaction commits), then
    /// inserts the share. Throws `SHARE_QUOTA_EXCEEDED` without calling `place` when it does not fit.
    public func insertShare(_ record: ShareRecord, quota: ShareQuota, place: @escaping @Sendable () throws -> Void) async throws {
        try await pool.write { db in
            let usage = try Self.shareUsage(db, agent: record.agentId)
            let known = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM shares WHERE agent_id = ? AND sha256 = ?)",
                                          arguments: [record.agentId, record.sha256]) ?? false
            try quota.check(usage, newBytes: known ? 0 : record.size, agent: record.agentId)
            _ = try Self.ensureBlobRow(db, sha256: record.sha256, size: record.size, now: record.createdAt)
            try place()
            try record.insert(db)
        }
    }

    /// The agent's share count and bytes of distinct content (see `ShareUsage`).
    public func shareUsage(agent: String) async throws -> ShareUsage {
        try await pool.read { db in try Self.shareUsage(db, agent: agent) }
    }

    static func shareUsage(_ db: Database, agent: String) throws -> ShareUsage {
        let row = try Row.fetchOne(db, sql: """
            SELECT (SELECT COUNT(*) FROM shares WHERE agent_id = ?1),
                   (SELECT COALESCE(SUM(size), 0) FROM share_blobs WHERE sha256 IN (SELECT sha256 FROM shares WHERE agent_id = ?1))
            """, arguments: [agent])
        return ShareUsage(count: row?[0] ?? 0, bytes: row?[1] ?? 0)
    }

    /// The sizes of the contents the agent already shares (a re-share of one of them adds no bytes).
    public func sharedSizes(agent: String) async throws -> Set<Int64> {
        try await pool.read { db in Set(try Int64.fetchAll(db, sql: "SELECT DISTINCT size FROM shares WHERE agent_id = ?", arguments: [agent])) }
    }

    /// The share with `token`, expired or not.
    public func share(token: String) async throws -> ShareRecord? {
        try await pool.read { db in try ShareRecord.fetchOne(db, key: token) }
    }

    /// The agent's shares that have not expired, newest first.
    public func liveShares(agent: String, now: Date) async throws -> [ShareRecord] {
        try await pool.read { db in
            try ShareRecord.filter(Column("agent_id") == agent && Column("expires_at") > now)
                .order(Column("created_at").desc).fetchAll(db)
        }
    }

    /// Deletes one of the agent's shares; returns it, or nil when the agent has no such share.
    public func deleteShare(token: String, agent: String, retire: @escaping @Sendable (FreedShareFiles) throws -> Void) async throws -> ShareRecord? {
        try await removeShares(ShareRecord.filter(key: token).filter(Column("agent_id") == agent), retire: retire).first
    }

    /// Deletes every share of the agent; returns them.
    public func deleteShares(agent: String, retire: @escaping @Sendable (FreedShareFiles) throws -> Void) async throws -> [ShareRecord] {
        try await removeShares(ShareRecord.filter(Column("agent_id") == agent), retire: retire)
    }

    /// Deletes the shares expired at `now`; returns them.
    public func deleteExpiredShares(now: Date, retire: @escaping @Sendable (FreedShareFiles) throws -> Void) async throws -> [ShareRecord] {
        try await removeShares(ShareRecord.filter(Column("expires_at") <= now), retire: retire)
    }

    /// Deletes the shares `request` selects and the blob rows left without a share, then hands their
    /// files to `retire` before the transaction commits.
    private func removeShares(_ request: QueryInterfaceRequest<ShareRecord>, retire: @escaping @Sendable (FreedShareFiles) throws -> Void) async throws -> [ShareRecord] {
        try await pool.write { db in
            let records = try request.fetchAll(db)
            guard !records.isEmpty else { return [] }
            try request.deleteAll(db)
            let freed = FreedShareFiles(blobs: try Self.takeUnreferencedBlobs(db), legacyFiles: records.compactMap(\.legacyFile))
            if !freed.isEmpty { try retire(freed) }
            return records
        }
    }

    /// The shares whose snapshot is still a pre-v7 file.
    public func legacyShares() async throws -> [ShareRecord] {
        try await pool.read { db in try ShareRecord.filter(Column("legacy_file") != nil).fetchAll(db) }
    }

    /// Marks a pre-v7 share as served from its blob, once its file has been adopted into the blob tree.
    public func markAdopted(token: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE shares SET legacy_file = NULL WHERE token = ?", arguments: [token])
        }
    }
}
