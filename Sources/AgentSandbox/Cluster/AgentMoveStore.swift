/// The store operations of a move's target node (PostgreSQL; a single box has none).
public protocol AgentMoveStore: Sendable {
    /// This node's name.
    var moveNodeID: String { get }
    /// A uid of `uids` free on this node, taken from its uid cursor so creations do not pick it meanwhile.
    func reserveUID(in uids: ClosedRange<Int64>) async throws -> Int64
    /// In one transaction: locks the agent's row (`SELECT … FOR UPDATE`), checks that `source` still owns
    /// it, and gives it to this node with `uid`. Throws 409 `AGENT_MOVING` when another node owns it.
    func switchOwner(agent: AgentID, from source: String, uid: Int64) async throws
}
