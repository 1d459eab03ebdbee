/// Timing and capacity knobs shared by nodes and gateways. Nodes heartbeat every `heartbeatInterval`;
/// gateways treat a node whose last heartbeat is older than `livenessWindow` as unavailable.
public struct ClusterTiming: Sendable {
    /// Seconds between a node's heartbeats.
    public var heartbeatInterval: Double = 2
    /// Heartbeat age, seconds, past which a node is unavailable (its agents answer 503 NODE_UNAVAILABLE).
    public var livenessWindow: Double = 10
    /// How long a gateway reuses its view of the nodes before reading them again, seconds.
    public var nodeRefreshInterval: Double = 1
    /// How long a gateway trusts a cached agent → node answer, seconds (a move made through this gateway
    /// invalidates it at once).
    public var ownerCacheSeconds: Double = 5
    /// A node with less free disk than this takes no new agents.
    public var minimumFreeDiskBytes: Int64 = 0

    public init() {}
}

/// A node's own identity in a cluster (`serve --cluster … --node-id … --advertise-url …`).
public struct NodeIdentity: Sendable {
    public var id: String
    /// Where gateways reach this node; nil: `http://HOST:PORT` of the listener once it is up.
    public var advertiseURL: String?
    /// Most live agents this node takes (placement skips it when full).
    public var maxAgents: Int

    public init(id: String, advertiseURL: String? = nil, maxAgents: Int = 10_000) {
        self.id = id
        self.advertiseURL = advertiseURL
        self.maxAgents = maxAgents
    }
}
