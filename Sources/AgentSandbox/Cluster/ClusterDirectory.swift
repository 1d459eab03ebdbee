/// What gateways and nodes need from the cluster's shared store (PostgreSQL): the nodes, who owns an
/// agent, a share, a preview link or a snapshot, heartbeats, and the owner switch at the end of a move. The store is the authority;
/// every cache in front of it (`AgentCatalog`) only saves round trips.
public protocol ClusterDirectory: Sendable {
    /// Every registered node with its count of live agents.
    func nodes() async throws -> [ClusterNode]
    /// The node that owns `agent` and the agent's state; nil when no live agent has that id.
    func owner(of agent: AgentID) async throws -> AgentOwner?
    /// The node that owns the agent a share token belongs to; nil for an unknown token.
    func shareOwner(token: String) async throws -> String?
    /// The agent a live or dead preview link (`/p/{token}`) opens; nil for an unknown token.
    func previewLinkAgent(token: String) async throws -> AgentID?
    /// The agent a snapshot belongs to (its blob lives on that agent's node); nil for an unknown id.
    func snapshotAgent(id: String) async throws -> AgentID?
    /// Records a heartbeat: the node is alive now, reachable at `advertiseURL`, with this capacity.
    func heartbeat(node: String, advertiseURL: String, maxAgents: Int, freeDiskBytes: Int64) async throws
    /// The live agents `node` owns, oldest first.
    func agents(onNode node: String) async throws -> [AgentID]
    /// Marks a node `up` or `draining`; false when no node has that name.
    func setState(_ state: ClusterNode.State, ofNode node: String) async throws -> Bool
}

/// Where an agent lives, as the shared store says.
public struct AgentOwner: Sendable, Equatable {
    public var node: String
    /// The agent's recorded state (`active`, `suspended`, `moving`, …).
    public var state: String

    public init(node: String, state: String) {
        self.node = node
        self.state = state
    }
}
