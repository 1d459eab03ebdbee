import Foundation
import PostgresNIO

/// Snapshot rows in PostgreSQL; they go with their agent's row (`ON DELETE CASCADE`).
extension PostgresStore {
    static let snapshotColumns = "id, agent_id, name, size, entries, uncompressed_bytes, blob_key, created_at"
    typealias SnapshotRow = (String, String, String?, Int64, Int64, Int64, String, Date)

    static func snapshotRecord(_ row: SnapshotRow) -> SnapshotRecord {
        SnapshotRecord(id: row.0, agentId: row.1, name: row.2, size: row.3, entries: row.4, uncompressedBytes: row.5, blobKey: row.6, createdAt: row.7)
    }

    /// The quota check and the insert in one transaction, the agent's row locked: concurrent snapshots
    /// of one agent cannot pass the cap together.
    public func insertSnapshot(_ record: SnapshotRecord, quota: SnapshotQuota) async throws {
        try await transaction { connection in
            try await execute("SELECT 1 FROM agents WHERE id = \(record.agentId) FOR UPDATE", on: connection)
            let usage = try await snapshotUsage(agent: record.agentId, on: connection)
            try quota.check(usage, adding: record.size, agent: record.agentId)
            try await execute("""
                INSERT INTO snapshots (id, agent_id, name, size, entries, uncompressed_bytes, blob_key, created_at)
                VALUES (\(record.id), \(record.agentId), \(record.name), \(record.size), \(record.entries), \(record.uncompressedBytes),
                        \(record.blobKey), \(record.createdAt))
                """, on: connection)
        }
    }

    public func snapshots(agent: String) async throws -> [SnapshotRecord] {
        try await rows("SELECT \(unescaped: Self.snapshotColumns) FROM snapshots WHERE agent_id = \(agent) ORDER BY created_at, id",
                       as: SnapshotRow.self).map(Self.snapshotRecord)
    }

    public func snapshot(id: String) async throws -> SnapshotRecord? {
        try await rows("SELECT \(unescaped: Self.snapshotColumns) FROM snapshots WHERE id = \(id)", as: SnapshotRow.self).first.map(Self.snapshotRecord)
    }

    public func deleteSnapshot(id: String, agent: String) async throws -> SnapshotRecord? {
        try await rows("DELETE FROM snapshots WHERE id = \(id) AND agent_id = \(agent) RETURNING \(unescaped: Self.snapshotColumns)",
                       as: SnapshotRow.self).first.map(Self.snapshotRecord)
    }

    public func deleteSnapshots(agent: String) async throws -> [SnapshotRecord] {
        try await rows("DELETE FROM snapshots WHERE agent_id = \(agent) RETURNING \(unescaped: Self.snapshotColumns)", as: SnapshotRow.self)
            .map(Self.snapshotRecord).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func snapshotUsage(agent: String) async throws -> SnapshotUsage {
        try await snapshotUsage(agent: agent, on: nil)
    }

    func snapshotUsage(agent: String, on connection: PostgresConnection?) async throws -> SnapshotUsage {
        let row = try await rows("SELECT COUNT(*), COALESCE(SUM(size), 0)::int8 FROM snapshots WHERE agent_id = \(agent)",
                                 as: (Int64, Int64).self, on: connection).first
        return SnapshotUsage(count: Int(row?.0 ?? 0), bytes: row?.1 ?? 0)
    }

    public func snapshotBlobKeys() async throws -> Set<String> {
        Set(try await values("""
            SELECT s.blob_key FROM snapshots s JOIN agents a ON a.id = s.agent_id WHERE a.node_id = \(node)
            """, as: String.self))
    }
}
