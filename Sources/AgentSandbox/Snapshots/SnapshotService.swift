import Foundation
import Logging
import SandboxKernel

/// Snapshots of agents' workspaces: take (with the agent frozen), list, inspect, delete, restore.
/// Blobs live in a `SnapshotBlobStore`, rows in the `snapshots` table; each agent's snapshots count
/// against its `SnapshotQuota`. Every method is the `run` of one pipeline call (see `SnapshotRoutes`).
///
/// A snapshot is consistent in time: every process of the agent is frozen (cgroup freezer) while its
/// workspace is archived, and thawed afterwards, also on failure.
public struct SnapshotService: Sendable {
    let store: any SandboxStore
    let agents: AgentRegistry
    let configuration: ServerConfiguration
    public let blobs: any SnapshotBlobStore

    public init(store: any SandboxStore, agents: AgentRegistry, configuration: ServerConfiguration, blobs: any SnapshotBlobStore) {
        self.store = store
        self.agents = agents
        self.configuration = configuration
        self.blobs = blobs
    }

    var quota: SnapshotQuota { SnapshotQuota(configuration.limits) }

    /// Archives the agent's workspace now (`name`: a label of the caller's, may be nil).
    public func create(_ agent: Agent, name: String?) async throws -> SnapshotRecord {
        let id = agent.id.rawValue
        try quota.check(try await store.snapshotUsage(agent: id), adding: 0, agent: id)
        let snapshotID = UUID().uuidString.lowercased()
        let key = "\(id)/\(snapshotID).tar.zst"
        let upload = try blobs.beginUpload(key: key)
        let root = agent.workspacePath
        let summary: WorkspaceSnapshotter.Summary
        do {
            summary = try await agents.withFrozen(agent) {
                try await Thread.run(name: "snapshot") { try WorkspaceSnapshotter.write(root: root, into: upload) }
            }
        } catch {
            upload.abort()
            throw error
        }
        let size = try await BlockingWork.run { try upload.commit() }
        let record = SnapshotRecord(
            id: snapshotID, agentId: id, name: name, size: size, entries: summary.entries,
            uncompressedBytes: summary.uncompressedBytes, blobKey: key, createdAt: Date())
        do {
            try await store.insertSnapshot(record, quota: quota)
        } catch {
            blobs.delete(key: key)
            throw error
        }
        return record
    }

    /// The agent's snapshots, oldest first.
    public func list(_ agent: AgentID) async throws -> [SnapshotRecord] {
        try await store.snapshots(agent: agent.rawValue)
    }

    /// One snapshot of the agent, or 404 `SNAPSHOT_NOT_FOUND`.
    public func record(_ snapshotID: String, of agent: AgentID) async throws -> SnapshotRecord {
        guard let record = try await store.snapshot(id: snapshotID.lowercased()), record.agentId == agent.rawValue else {
            throw Self.notFound(snapshotID, agent: agent.rawValue)
        }
        return record
    }

    /// A snapshot by id alone (fork `from_snapshot`), or 404.
    public func record(_ snapshotID: String) async throws -> SnapshotRecord {
        guard let record = try await store.snapshot(id: snapshotID.lowercased()) else { throw Self.notFound(snapshotID, agent: nil) }
        return record
    }

    public func delete(_ snapshotID: String, of agent: AgentID) async throws -> SnapshotRecord {
        guard let record = try await store.deleteSnapshot(id: snapshotID.lowercased(), agent: agent.rawValue) else {
            throw Self.notFound(snapshotID, agent: agent.rawValue)
        }
        let blobs = blobs
        _ = try? await BlockingWork.run { blobs.delete(key: record.blobKey) }
        return record
    }

    /// Replaces the agent's workspace with the snapshot, atomically (as archive `mode=replace`).
    public func restore(_ snapshotID: String, into agent: Agent) async throws -> (SnapshotRecord, ImportReport) {
        let record = try await record(snapshotID, of: agent.id)
        let report = try await unpack(record, into: agent, replaced: { [agents] in agents.workspaceReplaced(agent.id) })
        return (record, report)
    }

    /// Unpacks `record` over `agent`'s workspace (owned by that agent).
    func unpack(_ record: SnapshotRecord, into agent: Agent, replaced: @escaping @Sendable () -> Void) async throws -> ImportReport {
        let download = try blobs.open(key: record.blobKey)
        let owner = configuration.launchIdentity(for: agent.identity)
        let (path, staging) = (agent.workspacePath, stagingParent(for: agent))
        return try await Thread.run(name: "snapshot-restore") { () throws(ArchiveError) in
            try WorkspaceSnapshotter.restore(from: download, into: path, owner: owner, stagingParent: staging, replaced: replaced)
        }
    }

    /// Where a restore or fork into `agent` stages: where its archive imports do (inside its disk image,
    /// when it has one: the swap is a rename within one file system).
    func stagingParent(for agent: Agent) -> String {
        DiskImage.stagingParent(of: agent, configuration: configuration)
    }

    /// Removes every snapshot of the agent, rows and blobs (agent deletion).
    public func removeAll(of agent: AgentID) async throws {
        let records = try await store.deleteSnapshots(agent: agent.rawValue)
        let blobs = blobs
        _ = try? await BlockingWork.run { for record in records { blobs.delete(key: record.blobKey) } }
    }

    static func notFound(_ snapshotID: String, agent: String?) -> ToolError {
        let list = agent.map { " List the agent's snapshots with GET /v1/agents/\($0)/snapshots." } ?? ""
        return ToolError(.snapshotNotFound, "No snapshot '\(snapshotID.prefix(80))'\(agent.map { " of agent \($0)" } ?? "").\(list)")
    }
}
