import Foundation
import PostgresNIO

/// A node's row in `nodes`: what a node says about itself when it starts (and, through the gateway's
/// heartbeat, later). The single-box SQLite store has no nodes.
public struct NodeRegistration: Sendable, Equatable {
    public var id: String
    /// Where gateways reach this node (`--advertise-url`); empty until the gateway work sets it.
    public var advertiseURL: String
    public var maxAgents: Int
    public var freeDiskBytes: Int64

    public init(id: String, advertiseURL: String = "", maxAgents: Int = 0, freeDiskBytes: Int64 = 0) {
        self.id = id
        self.advertiseURL = advertiseURL
        self.maxAgents = maxAgents
        self.freeDiskBytes = freeDiskBytes
    }
}

extension PostgresStore {
    /// Inserts the node's row, or refreshes it (state `up`, a new start and heartbeat time) when the
    /// node starts again: its agents' `node_id` foreign key needs the row before any agent is created.
    public func registerNode(_ node: NodeRegistration, at date: Date = Date()) async throws {
        try await execute("""
            INSERT INTO nodes (id, advertise_url, max_agents, free_disk_bytes, state, started_at, heartbeat_at)
            VALUES (\(node.id), \(node.advertiseURL), \(Int32(clamping: node.maxAgents)), \(node.freeDiskBytes), 'up', \(date), \(date))
            ON CONFLICT (id) DO UPDATE SET advertise_url = excluded.advertise_url, max_agents = excluded.max_agents,
                free_disk_bytes = excluded.free_disk_bytes, state = 'up', started_at = excluded.started_at,
                heartbeat_at = excluded.heartbeat_at
            """)
    }
}
