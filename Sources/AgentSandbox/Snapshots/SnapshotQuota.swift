import SandboxKernel
/// What an agent's snapshots hold: how many, and their stored (compressed) bytes.
public struct SnapshotUsage: Sendable, Equatable {
    public var count: Int
    public var bytes: Int64

    public init(count: Int = 0, bytes: Int64 = 0) {
        self.count = count
        self.bytes = bytes
    }
}

/// The per-agent cap on snapshots (`--max-snapshots-per-agent`, `--snapshot-bytes-per-agent`): the one
/// place that decides whether one more snapshot fits.
public struct SnapshotQuota: Sendable, Equatable {
    public var maxSnapshots: Int
    public var maxBytes: Int64

    public init(maxSnapshots: Int, maxBytes: Int64) {
        self.maxSnapshots = maxSnapshots
        self.maxBytes = maxBytes
    }

    public init(_ limits: ResourceLimits) {
        self.init(maxSnapshots: limits.snapshotsPerAgent, maxBytes: limits.snapshotBytesPerAgent)
    }

    /// Throws `SNAPSHOT_QUOTA_EXCEEDED` unless one more snapshot of `newBytes` (0: not known yet) fits.
    public func check(_ usage: SnapshotUsage, adding newBytes: Int64, agent: String) throws(ToolError) {
        if usage.count + 1 > maxSnapshots {
            throw exceeded(agent, "it has \(usage.count) snapshots and the server allows \(maxSnapshots) per agent")
        }
        if usage.bytes + newBytes > maxBytes || (newBytes == 0 && usage.bytes >= maxBytes) {
            let adding = newBytes > 0 ? ", this one adds \(newBytes)," : ""
            throw exceeded(agent, "its snapshots hold \(usage.bytes) bytes\(adding) and the server allows \(maxBytes) bytes per agent")
        }
    }

    private func exceeded(_ agent: String, _ reason: String) -> ToolError {
        ToolError(.snapshotQuotaExceeded, "Cannot take a snapshot: \(reason). Delete snapshots that are no longer needed (list them with GET /v1/agents/\(agent)/snapshots, delete one with DELETE /v1/agents/\(agent)/snapshots/{snapshot_id}), or remove large files from the workspace first.")
    }
}
