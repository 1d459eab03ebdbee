/// Why an agent stops running on this node, as `AgentRegistry.onEnd` observers hear it.
public enum AgentEnd: Sendable, Equatable {
    /// Frozen; it resumes here with everything it had.
    case suspended
    /// Gone for good: what it owns (records, snapshots, sessions) goes with it.
    case deleted
    /// It lives on another node of the cluster now: what this node ran for it stops, while its records,
    /// snapshots and sessions (in the shared store, copied by the move) stay.
    case movedAway

    /// The agent no longer runs here at all (deleted or moved away): per-node state goes (warm sandbox,
    /// network, watches).
    public var leavesNode: Bool { self != .suspended }
}
