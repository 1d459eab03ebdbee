import Foundation
import GRDB

/// The shares table and its intention-named operations.
extension Store {
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

    public func insertShare(_ record: ShareRecord) async throws {
        try await pool.write { db in try record.insert(db) }
    }

    /// The share with `token`, expired or not.
    public func share(token: String) async throws -> ShareRecord? {
        try await pool.read { db in try ShareRecord.fetchOne(db, key: token) }
    }

    /// The agent's shares that have not expired, newest first.
    public func liveShares(agent: String, now: Date = Date()) async throws -> [ShareRecord] {
        try await pool.read { db in
            try ShareRecord.filter(Column("agent_id") == agent && Column("expires_at") > now)
                .order(Column("created_at").desc).fetchAll(db)
        }
    }

    /// Deletes one of the agent's shares; returns it, or nil when the agent has no such share.
    public func deleteShare(token: String, agent: String) async throws -> ShareRecord? {
        try await pool.write { db in
            guard let record = try ShareRecord.fetchOne(db, key: token), record.agentId == agent else { return nil }
            try record.delete(db)
            return record
        }
    }

    /// Deletes every share of the agent; returns them (their snapshots are the caller's to remove).
    public func deleteShares(agent: String) async throws -> [ShareRecord] {
        try await pool.write { db in
            let records = try ShareRecord.filter(Column("agent_id") == agent).fetchAll(db)
            try ShareRecord.filter(Column("agent_id") == agent).deleteAll(db)
            return records
        }
    }

    /// Deletes the shares expired at `now`; returns them.
    public func deleteExpiredShares(now: Date = Date()) async throws -> [ShareRecord] {
        try await pool.write { db in
            let records = try ShareRecord.filter(Column("expires_at") <= now).fetchAll(db)
            try ShareRecord.filter(Column("expires_at") <= now).deleteAll(db)
            return records
        }
    }

    /// Every snapshot file name the store knows (to find orphans left by a crash).
    public func shareBlobs() async throws -> Set<String> {
        try await pool.read { db in Set(try String.fetchAll(db, sql: "SELECT blob FROM shares")) }
    }
}
