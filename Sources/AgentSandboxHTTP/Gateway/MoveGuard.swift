import AgentSandbox
import Synchronization

/// The agents a gateway is moving. A call for one of them waits until its move ends (polling, at most
/// `wait` seconds), then goes on — or answers 409 `AGENT_MOVING` with `Retry-After`.
struct MoveGuard: Sendable {
    final class State: Sendable {
        let moving = Mutex<Set<AgentID>>([])
    }

    let state = State()
    var wait: Double = 30

    /// Marks `agent` as moving; 409 when a move of it is already under way.
    func begin(_ agent: AgentID) throws(ToolError) {
        let inserted = state.moving.withLock { $0.insert(agent).inserted }
        guard inserted else { throw ToolError(.agentMoving, "Agent \(agent) is already being moved; retry when that move has finished.") }
    }

    func end(_ agent: AgentID) {
        _ = state.moving.withLock { $0.remove(agent) }
    }

    /// Whether a move of `agent` is under way (checked without waiting: the fast path leaves such calls
    /// to `waitUntilSettled`).
    func isMoving(_ agent: AgentID) -> Bool {
        state.moving.withLock { $0.contains(agent) }
    }

    /// Returns once `agent` is not moving; throws 409 `AGENT_MOVING` after `wait` seconds.
    func waitUntilSettled(_ agent: AgentID) async throws {
        guard state.moving.withLock({ $0.contains(agent) }) else { return }
        let deadline = ContinuousClock.now + .milliseconds(Int(wait * 1000))
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            if !state.moving.withLock({ $0.contains(agent) }) { return }
        }
        throw ToolError(.agentMoving, "Agent \(agent) is being moved to another node; retry in a moment.")
    }
}
