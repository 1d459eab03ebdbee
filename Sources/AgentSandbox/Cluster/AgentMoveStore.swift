/// The store operations of a move's target node (PostgreSQL; a single box has none).
public protocol AgentMoveStore: Sendable {
    /// This node's name.
    var moveNodeID: String { get }
    /// A uid of `uids` free on this node, taken from its uid cursor so creations do not pick it meanwhile.
    func reserveUID(in uids: ClosedRange<Int64>) async throws -> Int64
    /// In one transaction: locks the agent's row (`SELECT … FOR UPDATE`), checks that `source` still owns
    /// it, and gives it to this node with `uid`. Throws 409 `AGENT_MOVING` when another node owns it.
    func switchOwner(agent: AgentID, from source: String, uid: Int64) async throws
    /// In one transaction under this node's share lock: checks that `record` (the share as the source node
    /// sent it) is still the agent's share of that content, records this node's copy of its blob, calls
    /// `place` (to put the file in place) and makes this node the share's publisher. 404 `NOT_FOUND`
    /// when the share is gone or changed meanwhile (nothing is recorded, `place` is not called).
    func adoptShare(_ record: ShareRecord, place: @escaping @Sendable () throws -> Void) async throws
    /// Drops this node's share blobs no share refers to any more (their shares moved to another node),
    /// handing their files to `retire` before the transaction commits; returns how many went.
    func pruneShareBlobs(retire: @escaping @Sendable (FreedShareFiles) throws -> Void) async throws -> Int
}
