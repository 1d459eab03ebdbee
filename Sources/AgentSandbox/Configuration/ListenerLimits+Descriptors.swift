import SandboxKernel

/// The listener's connection caps, sized against the open-file limit.
public struct ConnectionCaps: Sendable {
    /// The soft open-file limit in force (raised to the hard limit by `SandboxServices.prepare`).
    public let openFiles: Int
    /// Open connections in all.
    public let total: Int
    /// Open connections per peer address.
    public let perPeer: Int
}

extension ListenerLimits {
    /// Both caps resolved against the open-file limit: the configured cap, but never more than half of
    /// the limit (the rest stays for calls, the store and `/healthz`); the per-peer cap defaults to a
    /// quarter of the total.
    public func connectionCaps() -> ConnectionCaps {
        let openFiles = DescriptorReserve.openFileLimit()
        let total = min(maxConnections ?? DescriptorReserve.defaultConnectionCap(openFiles: openFiles), max(32, openFiles / 2))
        let perPeer = min(maxConnectionsPerPeer ?? max(8, total / 4), total)
        return ConnectionCaps(openFiles: openFiles, total: total, perPeer: perPeer)
    }
}
