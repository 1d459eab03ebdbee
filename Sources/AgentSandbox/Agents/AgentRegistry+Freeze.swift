import Synchronization
import SandboxKernel

extension AgentRegistry {
    /// How many callers hold each agent frozen (a snapshot and a fork of one agent may overlap): the
    /// first freezes the group, the last thaws it.
    private static let freezeHolds = Mutex<[String: Int]>([:])

    /// Runs `body` with every process of `agent` frozen by the cgroup freezer, so the workspace cannot
    /// change under it (a snapshot, a fork), then thaws them — also when `body` throws. An agent
    /// suspended meanwhile (or before) stays frozen. Without a freezer `body` runs unfrozen.
    public func withFrozen<T: Sendable>(_ agent: Agent, _ body: () async throws -> T) async throws -> T {
        let key = agent.id.rawValue
        let first = Self.freezeHolds.withLock { holds in
            holds[key, default: 0] += 1
            return holds[key] == 1
        }
        if first, agent.state != .suspended, let cgroups {
            _ = try? await BlockingWork.run { cgroups.freezeAndWait(agent: key) }
        }
        defer {
            let last = Self.freezeHolds.withLock { holds in
                holds[key, default: 1] -= 1
                if holds[key]! <= 0 { holds[key] = nil; return true }
                return false
            }
            if last, cachedState(of: agent.id) != .suspended { cgroups?.setFrozen(false, agent: key) }
        }
        return try await body()
    }
}
