import SandboxKernel
/// What an agent's shares hold: how many, and how many bytes of distinct content.
///
/// Bytes are counted once per distinct content the agent shares (its blobs), so sharing one file
/// fifty times costs its size once, like the disk it takes. Content that two agents share is counted
/// in full against each: an agent's figure depends only on its own shares, and never grows when
/// another agent revokes. Expired shares count until they are removed (every share made first removes
/// the expired ones), so short-lived links cannot slip past the cap.
public struct ShareUsage: Sendable, Equatable {
    public var count: Int
    public var bytes: Int64

    public init(count: Int = 0, bytes: Int64 = 0) {
        self.count = count
        self.bytes = bytes
    }
}

/// The per-agent cap on shares (`--max-shares-per-agent`, `--share-bytes-per-agent`).
///
/// The one place that decides whether a share fits: a disk cap on the whole agent can lower
/// `maxBytes` here (to what its workspace leaves free) without touching the share store.
public struct ShareQuota: Sendable, Equatable {
    public var maxShares: Int
    public var maxBytes: Int64

    public init(maxShares: Int, maxBytes: Int64) {
        self.maxShares = maxShares
        self.maxBytes = maxBytes
    }

    public init(_ limits: ResourceLimits) {
        self.init(maxShares: limits.sharesPerAgent, maxBytes: limits.shareBytesPerAgent)
    }

    /// Throws `SHARE_QUOTA_EXCEEDED` unless one more share adding `newBytes` of content fits `usage`.
    public func check(_ usage: ShareUsage, newBytes: Int64, agent: String) throws(ToolError) {
        if usage.count + 1 > maxShares {
            throw exceeded(agent, "it has \(usage.count) shares and the server allows \(maxShares) per agent")
        }
        if newBytes > 0, usage.bytes + newBytes > maxBytes {
            throw exceeded(agent, "its shares hold \(usage.bytes) bytes, this file adds \(newBytes), and the server allows \(maxBytes) bytes per agent")
        }
    }

    private func exceeded(_ agent: String, _ reason: String) -> ToolError {
        ToolError(.shareQuotaExceeded, "Cannot share: \(reason). Revoke shares that are no longer needed (list them with GET /v1/agents/\(agent)/shares, revoke one with DELETE /v1/agents/\(agent)/shares/{token}), or share a smaller file (compress it first).")
    }
}
