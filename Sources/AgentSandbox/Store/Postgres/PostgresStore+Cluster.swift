import Foundation
import PostgresNIO

/// The cluster directory on PostgreSQL (`ClusterDirectory`): nodes with their live agents, owners of
/// agents and shares, heartbeats, node states, and the owner switch that ends a move. Heartbeat times and
/// ages come from the database's clock, so gateways and nodes on machines whose clocks differ agree.
extension PostgresStore: ClusterDirectory {
    public func nodes() async throws -> [ClusterNode] {
        let now = Date()
        return try await rows("""
            SELECT n.id, n.advertise_url, n.max_agents, n.free_disk_bytes, n.state,
                   EXTRACT(EPOCH FROM now() - n.started_at)::float8, EXTRACT(EPOCH FROM now() - n.heartbeat_at)::float8,
                   (SELECT COUNT(*) FROM agents a WHERE a.node_id = n.id AND a.state != 'deleted')
            FROM nodes n ORDER BY n.id
            """, as: (String, String, Int32, Int64, String, Double, Double, Int64).self).map { row in
            ClusterNode(id: row.0, advertiseURL: row.1, maxAgents: Int(row.2), freeDiskBytes: row.3,
                        state: ClusterNode.State(rawValue: row.4) ?? .up,
                        startedAt: now.addingTimeInterval(-row.5), heartbeatAt: now.addingTimeInterval(-row.6), agents: Int(row.7))
        }
    }

    public func owner(of agent: AgentID) async throws -> AgentOwner? {
        try await rows("SELECT node_id, state FROM agents WHERE id = \(agent.rawValue) AND state != 'deleted'", as: (String?, String).self)
            .first.flatMap { row in row.0.map { AgentOwner(node: $0, state: row.1) } }
    }

    public func shareOwner(token: String) async throws -> String? {
        try await values("SELECT node_id FROM shares WHERE token = \(token)", as: String.self).first
    }

    public func previewLinkAgent(token: String) async throws -> AgentID? {
        try await values("SELECT agent_id FROM preview_links WHERE id = \(SHA256Hasher.hex(token))", as: String.self).first.flatMap { try? AgentID($0) }
    }

    public func snapshotAgent(id: String) async throws -> AgentID? {
        try await values("SELECT agent_id FROM snapshots WHERE id = \(id.lowercased())", as: String.self).first.flatMap { try? AgentID($0) }
    }

    public func agents(onNode node: String) async throws -> [AgentID] {
        try await values("SELECT id FROM agents WHERE node_id = \(node) AND state != 'deleted' ORDER BY created_at, id", as: String.self)
            .compactMap { try? AgentID($0) }
    }

    public func heartbeat(node: String, advertiseURL: String, maxAgents: Int, freeDiskBytes: Int64) async throws {
        let touched = try await values("""
            UPDATE nodes SET advertise_url = \(advertiseURL), max_agents = \(Int32(clamping: maxAgents)),
                free_disk_bytes = \(freeDiskBytes), heartbeat_at = now()
            WHERE id = \(node) RETURNING id
            """, as: String.self)
        if touched.isEmpty {
            try await registerNode(NodeRegistration(id: node, advertiseURL: advertiseURL, maxAgents: maxAgents, freeDiskBytes: freeDiskBytes))
        }
    }

    public func setState(_ state: ClusterNode.State, ofNode node: String) async throws -> Bool {
        try await !values("UPDATE nodes SET state = \(state.rawValue) WHERE id = \(node) RETURNING id", as: String.self).isEmpty
    }
}

/// A move's target side (`AgentMoveStore`).
extension PostgresStore: AgentMoveStore {
    public var moveNodeID: String { node }

    public func reserveUID(in uids: ClosedRange<Int64>) async throws -> Int64 {
        try await transaction { connection in
            try await execute("SELECT pg_advisory_xact_lock(hashtextextended('agent-sandbox uids ' || \(node), 0))", on: connection)
            let taken = Set(try await values("SELECT uid FROM agents WHERE node_id = \(node) AND uid IS NOT NULL", as: Int64.self, on: connection))
            let last = try await values("SELECT last_uid FROM uid_cursor WHERE node_id = \(node)", as: Int64.self, on: connection).first
            let start = last.map { $0 < uids.lowerBound || $0 >= uids.upperBound ? uids.lowerBound : $0 + 1 } ?? uids.lowerBound
            guard let uid = SQLiteStore.firstFree(from: start, in: uids, taken: taken) else {
                throw ToolError(.uidRangeExhausted, "Every uid in \(uids) is taken on node \(node); move the agent to another node or widen its --uid-count.")
            }
            try await execute("""
                INSERT INTO uid_cursor (node_id, last_uid) VALUES (\(node), \(uid))
                ON CONFLICT (node_id) DO UPDATE SET last_uid = excluded.last_uid
                """, on: connection)
            return uid
        }
    }

    public func switchOwner(agent: AgentID, from source: String, uid: Int64) async throws {
        try await transaction { connection in
            let owner = try await rows("SELECT node_id, state FROM agents WHERE id = \(agent.rawValue) FOR UPDATE", as: (String?, String).self, on: connection).first
            guard let owner, owner.1 != "deleted" else {
                throw ToolError(.agentNotFound, "Agent \(agent) was deleted while it moved.")
            }
            guard owner.0 == source else {
                throw ToolError(.agentMoving, "Agent \(agent) is owned by node '\(owner.0 ?? "none")', not '\(source)': another move won. Retry the call.")
            }
            try await execute("UPDATE agents SET node_id = \(node), uid = \(uid) WHERE id = \(agent.rawValue)", on: connection)
        }
    }
}
