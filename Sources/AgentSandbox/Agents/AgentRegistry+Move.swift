#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SandboxKernel

/// A move's two ends on the nodes (the gateway drives it, see `GatewayMove`). The target prepares the
/// agent under a uid of its own range in a fresh workspace, imports the archive into it, and takes the
/// agent once the store has switched the owner; the source then releases its copy — processes, cgroup,
/// workspace — without touching the agent's row, which is no longer its own.
extension AgentRegistry {
    /// The agent as it will live on this node: `uid` from this node's range, an empty workspace (with the
    /// agent's disk cap when it has one). Not cached and not owned yet: `adopted` or `abandonAdoption` follows.
    public func prepareAdoption(_ id: AgentID, uid: Int64) async throws -> Agent {
        guard var record = try await store.agent(id: id.rawValue), record.state != .deleted else {
            throw ToolError(.agentNotFound, "No agent \(id) to move here.")
        }
        record.uid = uid
        record.nodeId = store.nodeID
        let agent = try makeAgent(record)
        let image = diskImage(id.rawValue)
        let bytes = agent.settings.diskBytes
        do {
            try await BlockingWork.run {
                image.destroy()
                if let bytes {
                    try image.create(bytes: bytes)
                    try image.mount()
                }
            }
            try prepareWorkspace(agent)
        } catch {
            _ = try? await BlockingWork.run { image.destroy() }
            throw error
        }
        return agent
    }

    /// The store now says this node owns `agent` (its uid is this node's): serve it from here on.
    public func adopted(_ agent: Agent) async {
        if agent.settings.diskBytes != nil { mounts.adopt(agent.id.rawValue) }
        roots.forget(agent.id)
        cgroups?.prepareAgent(agent.id.rawValue, limits: limits(of: agent).processLimits)
        cache.withLock { $0[agent.id] = agent }
    }

    /// Removes what `prepareAdoption` made (the import or the owner switch failed).
    public func abandonAdoption(_ agent: Agent) async {
        let configuration = configuration
        _ = try? await BlockingWork.run { Self.removeDisk(of: agent, configuration) }
    }

    /// The source's side: the agent now lives on another node. Ends its sessions, kills its processes
    /// (when this node still knows the uid they ran as: the row now holds the new node's uid), removes
    /// its cgroup and workspace here. Its row, owned by the other node now, is left alone.
    public func release(_ id: AgentID) async throws {
        let cached = cache.withLock { $0[id] }
        let agent = cached ?? Agent(id: id, identity: Identity(uid: 0, gid: 0), state: .suspended, createdAt: Date(), lastUsedAt: nil,
                                    workspacePath: workspacePath(of: id.rawValue))
        cache.withLock { $0[id] = nil }
        lastUse.withLock { $0[id] = nil }
        roots.forget(id)
        await notifyEnd(id, .movedAway)
        let isolated = cached != nil && configuration.launchIdentity(for: agent.identity) != nil
        let failure: Int32? = try await BlockingWork.run { [cgroups, configuration] in
            cgroups?.setFrozen(false, agent: id.rawValue)
            cgroups?.removeAgent(id.rawValue)
            if isolated { Self.killProcesses(of: agent.identity.uid) }
            return Self.removeDisk(of: agent, configuration) == 0 ? nil : errno
        }
        mounts.forget(id.rawValue)
        roots.forget(id)
        if let failure {
            throw ToolError(.internalError, "Agent \(id) moved away, but its old workspace here could not be fully removed: \(String(cString: strerror(failure))).")
        }
    }
}
