import Foundation
import GRDB
import SandboxKernel
import Synchronization

/// The single-box store (`SandboxStore` on GRDB, SQLite in WAL mode): owns the database file, runs
/// migrations in `init`, and exposes intention-named operations. Invariants (one uid per live agent,
/// an agent's shares, sessions and snapshots go with its row) live in the schema.
public final class SQLiteStore: SandboxStore {
    /// Internal so that `Store+Concern.swift` extensions can add their own operations.
    let pool: DatabasePool

    /// Opens (creating if needed) the database at `path`, mode 0600, and migrates it. `legacyNetwork`:
    /// the network mode recorded for agents that predate network modes (see `registerNetworkModeMigration`).
    public init(path: String, legacyNetwork: NetworkPolicy = .host) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            chmod(path + suffix, 0o600)
        }
        // GRDB reads which migrations were applied before it takes the write lock: stores of one process
        // opening the same file at once would each apply v1. One migration run at a time per process.
        try Self.migrating.withLock { _ in try Self.migrator(legacyNetwork: legacyNetwork).migrate(pool) }
    }

    private static let migrating = Mutex<Void>(())

    /// One box, no nodes.
    public var nodeID: String? { nil }

    /// Nothing to release before the pool goes (GRDB closes the database when the last reference goes).
    public func close() async {}

    static func migrator(legacyNetwork: NetworkPolicy = .host) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: agents, api_keys, audit_log") { db in
            try db.create(table: "agents") { table in
                table.primaryKey("id", .text)
                table.column("uid", .integer).unique()
                table.column("state", .text).notNull()
                table.column("created_at", .datetime).notNull()
                table.column("last_used_at", .datetime)
            }
            try db.create(table: "api_keys") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("key_hash", .text).notNull().unique()
                table.column("name", .text).notNull()
                table.column("created_at", .datetime).notNull()
            }
            try db.create(table: "audit_log") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("agent_id", .text).notNull().indexed()
                table.column("tool", .text).notNull()
                table.column("started_at", .datetime).notNull()
                table.column("duration_ms", .double).notNull()
                table.column("status", .text).notNull()
                table.column("bytes", .integer).notNull()
            }
        }
        registerShareMigration(in: &migrator)
        migrator.registerMigration("v5: agent settings") { db in
            try db.alter(table: "agents") { table in table.add(column: "settings", .text) }
        }
        registerExecSessionsMigration(&migrator)
        migrator.registerMigration("v6: uid cursor") { db in
            try db.create(table: "uid_cursor") { table in
                table.primaryKey("id", .integer).check { $0 == 1 }
                table.column("last_uid", .integer).notNull()
            }
        }
        registerShareBlobsMigration(in: &migrator)
        registerSnapshotsMigration(in: &migrator)
        registerNetworkModeMigration(in: &migrator, legacy: legacyNetwork)
        registerPreviewLinksMigration(in: &migrator)
        registerAgentForeignKeysMigration(in: &migrator)
        return migrator
    }

    // MARK: Agents

    public func agent(id: String) async throws -> AgentRecord? {
        try await pool.read { db in try AgentRecord.fetchOne(db, key: id) }
    }

    /// How many agents are in each state.
    public func agentCountByState() async throws -> [String: Int] {
        try await pool.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM agents GROUP BY state") {
                counts[row["state"]] = row["n"]
            }
            return counts
        }
    }

    /// Live agents (not deleted), oldest first.
    public func liveAgents() async throws -> [AgentRecord] {
        try await pool.read { db in
            try AgentRecord.filter(Column("state") != AgentRecord.State.deleted.rawValue).order(Column("created_at")).fetchAll(db)
        }
    }

    /// Creates the agent (or revives a deleted one) with the next free uid in `uids` after the last one
    /// handed out, wrapping around: a freed uid goes back into use as late as possible, never at once
    /// (nothing a deleted agent's uid left behind can meet the next agent early).
    /// Returns the record and whether it was created by this call.
    public func provisionAgent(id: String, uids: ClosedRange<Int64>, settings: String?) async throws -> (AgentRecord, created: Bool) {
        try await pool.write { db in
            if let existing = try AgentRecord.fetchOne(db, key: id), existing.state != .deleted {
                return (existing, false)
            }
            let taken = Set(try Int64.fetchAll(db, sql: "SELECT uid FROM agents WHERE uid IS NOT NULL"))
            let last = try Int64.fetchOne(db, sql: "SELECT last_uid FROM uid_cursor WHERE id = 1")
            let start = last.map { $0 < uids.lowerBound || $0 >= uids.upperBound ? uids.lowerBound : $0 + 1 } ?? uids.lowerBound
            guard let uid = Self.firstFree(from: start, in: uids, taken: taken) else {
                throw ToolError(.uidRangeExhausted, "Every uid in \(uids) is taken; delete unused agents or widen --uid-count.")
            }
            let record = AgentRecord(id: id, uid: uid, state: .active, createdAt: Date(), lastUsedAt: nil, settings: settings)
            try record.save(db)
            try db.execute(sql: "INSERT INTO uid_cursor (id, last_uid) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET last_uid = excluded.last_uid", arguments: [uid])
            return (record, true)
        }
    }

    /// The first uid not in `taken`, scanning `start...upperBound` then `lowerBound..<start`.
    static func firstFree(from start: Int64, in uids: ClosedRange<Int64>, taken: Set<Int64>) -> Int64? {
        if let uid = (start...uids.upperBound).first(where: { !taken.contains($0) }) { return uid }
        return (uids.lowerBound..<start).first { !taken.contains($0) }
    }

    /// Removes the agent's row outright (an agent a failed call created: it leaves no trace, not even a
    /// `deleted` state). Its shares and sessions go with it.
    public func forgetAgent(id: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM shares WHERE agent_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM exec_sessions WHERE agent_id = ?", arguments: [id])
            // Its snapshot rows go by ON DELETE CASCADE (their blobs went with `AgentRegistry.delete`).
            try db.execute(sql: "DELETE FROM agents WHERE id = ?", arguments: [id])
        }
    }

    public func setState(_ state: AgentRecord.State, of id: String) async throws {
        try await pool.write { db in
            if state == .deleted {
                try db.execute(sql: "UPDATE agents SET state = ?, uid = NULL WHERE id = ?", arguments: [state.rawValue, id])
            } else {
                try db.execute(sql: "UPDATE agents SET state = ? WHERE id = ?", arguments: [state.rawValue, id])
            }
        }
    }

    // MARK: API keys

    public func apiKeyHashes() async throws -> [String] {
        try await pool.read { db in try String.fetchAll(db, sql: "SELECT key_hash FROM api_keys") }
    }

    public func insertAPIKey(hash: String, name: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO api_keys (key_hash, name, created_at) VALUES (?, ?, ?)",
                           arguments: [hash, name, Date()])
        }
    }

    // MARK: Audit

    /// Appends a batch of audit entries and bumps each agent's `last_used_at`, in one transaction.
    public func recordAudit(_ entries: [AuditEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await pool.write { db in
            var lastUse: [String: Date] = [:]
            // One cached statement for the batch: at tens of thousands of calls a second, encoding each
            // record through Codable was a tenth of the server's CPU.
            let insert = try db.cachedStatement(sql: "INSERT INTO audit_log (agent_id, tool, started_at, duration_ms, status, bytes) VALUES (?, ?, ?, ?, ?, ?)")
            for entry in entries {
                try insert.execute(arguments: [entry.agentId, entry.tool, entry.startedAt.storageValue, entry.durationMs, entry.status, entry.bytes])
                lastUse[entry.agentId] = max(lastUse[entry.agentId] ?? entry.startedAt, entry.startedAt)
            }
            for (agent, date) in lastUse {
                try db.execute(sql: "UPDATE agents SET last_used_at = ? WHERE id = ?", arguments: [date, agent])
            }
        }
    }

    public func auditEntries(agent: String) async throws -> [AuditEntry] {
        try await pool.read { db in try AuditEntry.filter(Column("agent_id") == agent).order(Column("id")).fetchAll(db) }
    }
}
