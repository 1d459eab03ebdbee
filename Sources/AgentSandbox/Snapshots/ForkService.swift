import Foundation
import SandboxKernel

/// `POST /v1/agents {"fork_of": ID}` or `{"from_snapshot": SID}`: a new agent — its own uid, the
/// source's settings (network, limits, working directory; the body's `network` and `limits` on top) —
/// whose workspace is a copy of the source agent's (taken with the source frozen, like a snapshot) or
/// of the snapshot. The copy is streamed (export → pipe → import: the source's tree is walked with the
/// export's safety rules and staged, checked and swapped in like an archive `replace`); an empty agent
/// never shows half a copy, and a failed fork leaves no agent behind.
public struct ForkService: Sendable {
    let pipeline: CallPipeline
    let snapshots: SnapshotService

    public init(pipeline: CallPipeline, snapshots: SnapshotService) {
        self.pipeline = pipeline
        self.snapshots = snapshots
    }

    /// What to copy.
    public enum Source: Sendable {
        case agent(AgentID)
        case snapshot(String)
    }

    /// Creates agent `newID` (a random id when nil) from `source`; `overrides` are the body's settings.
    public func fork(_ source: Source, as newID: AgentID?, overrides: AgentSettings) async throws(ToolError) -> Agent {
        let record: SnapshotRecord?
        let sourceID: AgentID
        switch source {
        case .agent(let id):
            (record, sourceID) = (nil, id)
        case .snapshot(let snapshotID):
            do {
                let found = try await snapshots.record(snapshotID)
                (record, sourceID) = (found, try AgentID(found.agentId))
            } catch {
                try pipeline.reject(CallRequest(agentID: newID ?? AgentID.random(), operation: "agent_fork", entry: .sandbox), ToolError(normalizing: error))
            }
        }
        return try await pipeline.run(CallRequest(agentID: sourceID, operation: "agent_fork", entry: .sandbox), admission: .anyAgent) { admitted in
            try await make(from: admitted.agent, snapshot: record, as: newID, overrides: overrides)
        }
    }

    private func make(from source: Agent, snapshot: SnapshotRecord?, as newID: AgentID?, overrides: AgentSettings) async throws -> Agent {
        let agents = pipeline.agents
        if let newID, await agents.exists(newID) {
            throw ToolError(.agentExists, "Agent \(newID) already exists; a fork makes a new agent. Leave agent_id out (a new id is chosen) or pick an unused one.")
        }
        let (agent, created) = try await agents.create(newID, settings: source.settings.overridden(by: overrides))
        guard created else {
            throw ToolError(.agentExists, "Agent \(agent.id) already exists; a fork makes a new agent. Leave agent_id out or pick an unused one.")
        }
        do {
            if let snapshot {
                _ = try await snapshots.unpack(snapshot, into: agent, replaced: { agents.workspaceReplaced(agent.id) })
            } else {
                let owner = pipeline.configuration.launchIdentity(for: agent.identity)
                let (from, into, staging) = (source.workspacePath, agent.workspacePath, snapshots.stagingParent(for: agent))
                _ = try await agents.withFrozen(source) {
                    try await Thread.run(name: "fork-import") { () throws(ArchiveError) in
                        try WorkspaceSnapshotter.copy(from: from, into: into, owner: owner, stagingParent: staging)
                    }
                }
                agents.workspaceReplaced(agent.id)
            }
        } catch {
            await agents.discard(agent.id)
            throw error
        }
        return agent
    }
}

extension AgentSettings {
    /// These settings with every field `overrides` sets taken from it.
    func overridden(by overrides: AgentSettings) -> AgentSettings {
        var result = self
        if let value = overrides.network { result.network = value }
        if let value = overrides.pidsMax { result.pidsMax = value }
        if let value = overrides.memoryBytes { result.memoryBytes = value }
        if let value = overrides.cpuWeight { result.cpuWeight = value }
        if let value = overrides.maxConcurrentCalls { result.maxConcurrentCalls = value }
        if let value = overrides.diskBytes { result.diskBytes = value }
        if let value = overrides.cwd { result.cwd = value }
        if let value = overrides.egress { result.egress = value }
        return result
    }
}
