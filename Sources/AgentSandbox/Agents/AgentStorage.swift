/// The disk an agent takes: its workspace (allocated blocks, as `du` counts them) plus the content its
/// shares keep in the server's share store (`ShareUsage`: distinct content, by size).
///
/// `GET /v1/agents/{id}` reports `disk_usage_bytes` (the total), `workspace_bytes`, `share_bytes` and
/// `share_count` (measured by `AgentRegistry.storage(of:)`). A per-agent disk cap compares `totalBytes` with its limit, and can hand what the
/// workspace leaves free to `ShareQuota.maxBytes` so that shares and files draw on one budget.
public struct AgentStorage: Sendable, Equatable {
    public var workspaceBytes: Int64
    public var shares: ShareUsage

    public var totalBytes: Int64 { workspaceBytes + shares.bytes }

    public init(workspaceBytes: Int64, shares: ShareUsage) {
        self.workspaceBytes = workspaceBytes
        self.shares = shares
    }

    /// The fields added to the agent's JSON.
    var fields: [String: JSONValue] {
        [
            "disk_usage_bytes": .number(Double(totalBytes)),
            "workspace_bytes": .number(Double(workspaceBytes)),
            "share_bytes": .number(Double(shares.bytes)),
            "share_count": .number(Double(shares.count)),
        ]
    }
}
