import Foundation
import Logging

/// `serve --cluster URL --node-id NAME`: this server is one node of a cluster whose shared state is the
/// PostgreSQL database at `url` (`PostgresStore`). Absent: the single-box default, an embedded SQLite file.
public struct ClusterSettings: Sendable, Equatable {
    /// `postgres://user[:password]@host[:port]/database`.
    public var url: String
    /// This node's name in `nodes` (and the prefix of its agents' ids at a gateway).
    public var nodeID: String
    /// Where gateways reach this node (`--advertise-url`); nil: `http://HOST:PORT` of the listener.
    public var advertiseURL: String?
    /// Most live agents placement gives this node (`--max-agents`); nil: the uid count.
    public var maxAgents: Int?
    /// Seconds between heartbeats (`--heartbeat-interval`).
    public var heartbeatInterval: Double = 2

    public init(url: String, nodeID: String) {
        self.url = url
        self.nodeID = nodeID
    }
}

extension ServerConfiguration {
    /// Opens the configured store: PostgreSQL for a cluster node, else the SQLite file in the state
    /// directory. A bad `--cluster` URL or an unreachable database is a `ConfigurationError` naming the flag.
    public func openStore(logger: Logger) async throws -> any SandboxStore {
        guard let cluster else { return try SQLiteStore(path: databasePath, legacyNetwork: legacyNetwork) }
        return try await PostgresStore.connect(
            url: cluster.url, nodeID: cluster.nodeID,
            node: NodeRegistration(id: cluster.nodeID, maxAgents: nodeCapacity), logger: logger)
    }
}
