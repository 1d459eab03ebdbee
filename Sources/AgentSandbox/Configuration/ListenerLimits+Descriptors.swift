import SandboxKernel
extension DescriptorReserve {
    /// `limits` with both caps resolved against the open-file limit: the configured cap, but never
    /// more than half of the limit; the per-peer cap defaults to a quarter of the total.
    public static func resolve(_ limits: ListenerLimits, openFiles: Int) -> (total: Int, perPeer: Int) {
        let total = min(limits.maxConnections ?? defaultConnectionCap(openFiles: openFiles), max(32, openFiles / 2))
        let perPeer = min(limits.maxConnectionsPerPeer ?? max(8, total / 4), total)
        return (total, perPeer)
    }
}
