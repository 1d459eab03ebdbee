import Foundation
import GRDB

/// The `snapshots` table (`SnapshotRecord`). Its rows go with their agent's row (`ON DELETE CASCADE`).
extension SQLiteStore {
    static func registerSnapshotsMigration(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v8: snapshots") { db in
            try db.execute(sql: """
                CREATE TABLE snapshots (
                    id TEXT PRIMARY KEY NOT NULL,
                    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
                    name TEXT,
                    size INTEGER NOT NULL CHECK (size >= 0),
                    entries INTEGER NOT NULL CHECK (entries >= 0),
                    uncompressed_bytes INTEGER NOT NULL CHECK (uncompressed_bytes >= 0),
                    blob_key TEXT NOT NULL UNIQUE,
                    created_at DATETIME NOT NULL
                );
                CREATE INDEX snapshots_on_agent_id ON snapshots(agent_id, created_at);
                """)
        }
    }

    /// Records a snapshot whose blob is committed, if the agent's snapshots still fit `quota` with it
    /// (checked in the same transaction, so concurrent snapshots cannot pass the cap together).
    public func insertSnapshot(_ record: SnapshotRecord, quota: SnapshotQuota) async throws {
        try await pool.write { db in
            let usage = try Self.snapshotUsage(db, agent: record.agentId)
            try quota.check(usage, adding: record.size, agent: record.agentId)
            try record.insert(db)
        }
    }

    /// The agent's snapshots, oldest first.
    public func snapshots(agent: String) async throws -> [SnapshotRecord] {
        try await pool.read { db in
            try SnapshotRecord.filter(Column("agent_id") == agent).order(Column("created_at"), Column("id")).fetchAll(db)
        }
    }

    public func snapshot(id: String) async throws -> SnapshotRecord? {
        try await pool.read { db in try SnapshotRecord.fetchOne(db, key: id) }
    }

    /// Deletes the row; returns it (its blob is the caller's to remove), nil when there was none.
    public func deleteSnapshot(id: String, agent: String) async throws -> SnapshotRecord? {
        try await pool.write { db in
            guard let record = try SnapshotRecord.fetchOne(db, key: id), record.agentId == agent else { return nil }
            try record.delete(db)
            return record
        }
    }

    /// Deletes every snapshot row of the agent; returns them (their blobs are the caller's to remove).
    public func deleteSnapshots(agent: String) async throws -> [SnapshotRecord] {
        try await pool.write { db in
            let records = try SnapshotRecord.filter(Column("agent_id") == agent).fetchAll(db)
            try SnapshotRecord.filter(Column("agent_id") == agent).deleteAll(db)
            return records
        }
    }

    /// How many snapshots the agent holds and their stored bytes.
    public func snapshotUsage(agent: String) async throws -> SnapshotUsage {
        try await pool.read { db in try Self.snapshotUsage(db, agent: agent) }
    }

    /// Every blob key the store knows (to find blobs a crash left without a row).
    public func snapshotBlobKeys() async throws -> Set<String> {
        try await pool.read { db in Set(try String.fetchAll(db, sql: "SELECT blob_key FROM snapshots")) }
    }

    static func snapshotUsage(_ db: Database, agent: String) throws -> SnapshotUsage {
        let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM snapshots WHERE agent_id = ?", arguments: [agent])
        return SnapshotUsage(count: row?["n"] ?? 0, bytes: row?["bytes"] ?? 0)
    }
}

extension SQLiteStore {
    /// Agents in state `deleted` that still have snapshot rows (a crash during their deletion).
    public func agentsWithSnapshotsButDeleted() async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT s.agent_id FROM snapshots s JOIN agents a ON a.id = s.agent_id WHERE a.state = 'deleted'")
        }
    }
}
