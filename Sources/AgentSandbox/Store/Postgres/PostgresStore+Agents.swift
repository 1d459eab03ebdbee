import Foundation
import PostgresNIO

/// Agents, API keys and the audit log in PostgreSQL. Agent lookups by id are cluster-wide (the record
/// carries its `nodeId`); listings, counts and uid allocation are this node's.
extension PostgresStore {
    static let agentColumns = "id, uid, state, created_at, last_used_at, settings, node_id"
    typealias AgentRow = (String, Int64?, String, Date, Date?, String?, String?)

    static func agentRecord(_ row: AgentRow) -> AgentRecord {
        AgentRecord(id: row.0, uid: row.1, state: AgentRecord.State(rawValue: row.2) ?? .deleted, createdAt: row.3,
                    lastUsedAt: row.4, settings: row.5, nodeId: row.6)
    }

    public func agent(id: String) async throws -> AgentRecord? {
        try await rows("SELECT \(unescaped: Self.agentColumns) FROM agents WHERE id = \(id)", as: AgentRow.self).first.map(Self.agentRecord)
    }

    public func agentCountByState() async throws -> [String: Int] {
        let counts = try await rows("SELECT state, COUNT(*) FROM agents WHERE node_id = \(node) GROUP BY state", as: (String, Int64).self)
        return Dictionary(uniqueKeysWithValues: counts.map { ($0.0, Int($0.1)) })
    }

    public func liveAgents() async throws -> [AgentRecord] {
        try await rows("""
            SELECT \(unescaped: Self.agentColumns) FROM agents WHERE node_id = \(node) AND state != 'deleted' ORDER BY created_at, id
            """, as: AgentRow.self).map(Self.agentRecord)
    }

    /// As `SQLiteStore.provisionAgent`, with this node's uids and cursor. Creations on one node are
    /// serialised by an advisory lock on the node (as SQLite serialises writes); the same id created on
    /// two nodes at once meets the primary key: the second insert waits for the first and finds the row.
    public func provisionAgent(id: String, uids: ClosedRange<Int64>, settings: String?) async throws -> (AgentRecord, created: Bool) {
        try await transaction { connection in
            try await execute("SELECT pg_advisory_xact_lock(hashtextextended('agent-sandbox uids ' || \(node), 0))", on: connection)
            let existing = try await rows("SELECT \(unescaped: Self.agentColumns) FROM agents WHERE id = \(id) FOR UPDATE", as: AgentRow.self, on: connection)
                .first.map(Self.agentRecord)
            if let existing, existing.state != .deleted { return (existing, false) }
            let last = try await values("SELECT last_uid FROM uid_cursor WHERE node_id = \(node)", as: Int64.self, on: connection).first
            let start = last.map { $0 < uids.lowerBound || $0 >= uids.upperBound ? uids.lowerBound : $0 + 1 } ?? uids.lowerBound
            guard let uid = try await freeUID(from: start, in: uids, on: connection) else {
                throw ToolError(.uidRangeExhausted, "Every uid in \(uids) is taken on node \(node); delete unused agents or widen --uid-count.")
            }
            let record = AgentRecord(id: id, uid: uid, state: .active, createdAt: Date(), lastUsedAt: nil, settings: settings, nodeId: node)
            // The row and the node's uid cursor in one statement (the cursor moves only when the row went in).
            let inserted = try await values("""
                WITH inserted_row AS (
                    INSERT INTO agents (id, node_id, uid, state, created_at, last_used_at, settings)
                    VALUES (\(id), \(node), \(uid), 'active', \(record.createdAt), NULL, \(settings))
                    ON CONFLICT (id) DO UPDATE SET node_id = excluded.node_id, uid = excluded.uid, state = excluded.state,
                        created_at = excluded.created_at, last_used_at = NULL, settings = excluded.settings
                        WHERE agents.state = 'deleted'
                    RETURNING id
                ), cursor_update AS (
                    INSERT INTO uid_cursor (node_id, last_uid) SELECT \(node), \(uid) FROM inserted_row
                    ON CONFLICT (node_id) DO UPDATE SET last_uid = excluded.last_uid
                )
                SELECT id FROM inserted_row
                """, as: String.self, on: connection)
            guard !inserted.isEmpty else {
                // Created by another node since our read: theirs stands.
                let theirs = try await rows("SELECT \(unescaped: Self.agentColumns) FROM agents WHERE id = \(id)", as: AgentRow.self, on: connection)
                guard let winner = theirs.first.map(Self.agentRecord) else { throw ToolError(.serverBusy, "Agent \(id) was created and removed concurrently; retry.") }
                return (winner, false)
            }
            return (record, true)
        }
    }

    /// The first uid of this node not taken from `start` on, wrapping around. Looks at the next 256 uids
    /// first (one indexed range read: the cursor usually points at a free one), and reads every taken uid
    /// of the node only when those are all taken.
    private func freeUID(from start: Int64, in uids: ClosedRange<Int64>, on connection: PostgresConnection) async throws -> Int64? {
        let end = min(uids.upperBound, start + 255)
        let near = Set(try await values("""
            SELECT uid FROM agents WHERE node_id = \(node) AND uid BETWEEN \(start) AND \(end)
            """, as: Int64.self, on: connection))
        if let uid = (start...end).first(where: { !near.contains($0) }) { return uid }
        let taken = Set(try await values("SELECT uid FROM agents WHERE node_id = \(node) AND uid IS NOT NULL", as: Int64.self, on: connection))
        return SQLiteStore.firstFree(from: start, in: uids, taken: taken)
    }

    public func forgetAgent(id: String) async throws {
        // Shares, sessions, snapshot rows and preview links go by ON DELETE CASCADE.
        try await execute("DELETE FROM agents WHERE id = \(id)")
    }

    public func setState(_ state: AgentRecord.State, of id: String) async throws {
        if state == .deleted {
            try await execute("UPDATE agents SET state = \(state.rawValue), uid = NULL WHERE id = \(id)")
        } else {
            try await execute("UPDATE agents SET state = \(state.rawValue) WHERE id = \(id)")
        }
    }

    public func setSettings(_ settings: String?, of id: String) async throws {
        try await execute("UPDATE agents SET settings = \(settings) WHERE id = \(id)")
    }

    public func agentsWithSnapshotsButDeleted() async throws -> [String] {
        try await values("""
            SELECT DISTINCT s.agent_id FROM snapshots s JOIN agents a ON a.id = s.agent_id
            WHERE a.state = 'deleted' AND a.node_id = \(node)
            """, as: String.self)
    }

    // MARK: API keys

    public func apiKeyHashes() async throws -> [String] {
        try await values("SELECT key_hash FROM api_keys", as: String.self)
    }

    public func insertAPIKey(hash: String, name: String) async throws {
        try await execute("INSERT INTO api_keys (key_hash, name, created_at) VALUES (\(hash), \(name), \(Date())) ON CONFLICT (key_hash) DO NOTHING")
    }

    public func apiKeys() async throws -> [APIKeyRecord] {
        let keys: [(Int64, String, String, Date)] = try await rows("SELECT id, key_hash, name, created_at FROM api_keys ORDER BY id", as: (Int64, String, String, Date).self)
        return keys.map { key in APIKeyRecord(id: key.0, keyHash: key.1, name: key.2, createdAt: key.3) }
    }

    public func deleteAPIKey(id: Int64) async throws -> Bool {
        try await !values("DELETE FROM api_keys WHERE id = \(id) RETURNING id", as: Int64.self).isEmpty
    }

    // MARK: Audit

    /// One statement per batch (arrays unnested), and one `last_used_at` update per agent.
    public func recordAudit(_ entries: [AuditEntry]) async throws {
        guard !entries.isEmpty else { return }
        var lastUse: [String: Date] = [:]
        for entry in entries { lastUse[entry.agentId] = max(lastUse[entry.agentId] ?? entry.startedAt, entry.startedAt) }
        let (agents, tools, starts) = (entries.map(\.agentId), entries.map(\.tool), entries.map(\.startedAt))
        let (durations, statuses, bytes) = (entries.map(\.durationMs), entries.map(\.status), entries.map(\.bytes))
        let (used, usedAt) = (Array(lastUse.keys), lastUse.keys.map { lastUse[$0]! })
        try await transaction { connection in
            try await execute("""
                INSERT INTO audit_log (agent_id, tool, started_at, duration_ms, status, bytes)
                SELECT * FROM UNNEST(\(agents)::text[], \(tools)::text[], \(starts)::timestamptz[], \(durations)::float8[], \(statuses)::text[], \(bytes)::int8[])
                """, on: connection)
            try await execute("""
                UPDATE agents SET last_used_at = u.at FROM UNNEST(\(used)::text[], \(usedAt)::timestamptz[]) AS u(id, at) WHERE agents.id = u.id
                """, on: connection)
        }
    }

    public func auditEntries(agent: String) async throws -> [AuditEntry] {
        try await rows("""
            SELECT id, agent_id, tool, started_at, duration_ms, status, bytes FROM audit_log WHERE agent_id = \(agent) ORDER BY id
            """, as: (Int64, String, String, Date, Double, String, Int64).self).map {
            var entry = AuditEntry(agentId: $0.1, tool: $0.2, startedAt: $0.3, durationMs: $0.4, status: $0.5, bytes: $0.6)
            entry.id = $0.0
            return entry
        }
    }
}
