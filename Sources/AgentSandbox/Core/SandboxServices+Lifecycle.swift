#if canImport(Glibc)
import Glibc
#endif
import SandboxKernel

/// What the server does around its listener: once bound, the guards that depend on its port; at the
/// end, everything start-up made, undone.
extension SandboxServices {
    /// The listener is bound to `port`: agents' uids may not connect to it (an nftables rule in this
    /// server's table, beside the isolated agents' NAT and filter rules), and isolated agents' networks
    /// go live. Nothing under `--allow-shared-uid` or when not root (agents are not separate uids).
    public func listenerBound(port: Int) async {
        guard !configuration.allowSharedUID, geteuid() == 0 else { return }
        let networks = launcher.networks
        let table = listenerFirewall.install(
            port: port, uids: configuration.uidBase...(configuration.uidBase + configuration.uidCount - 1),
            extraRules: networks?.rules ?? "", logger: logger)
        await networks?.activate(table: table)
    }

    /// The sentence for a listener that could not bind (`code`: its errno), naming the flag to change.
    public func bindFailure(_ code: Int32) -> ConfigurationError {
        PortProbe.sentence(for: code, address: "\(configuration.host):\(configuration.port)", host: configuration.host)
    }

    /// Stops what the server started, in order: exec sessions, warm sandboxes, agents' networks, disk
    /// images; flushes the audit log; removes empty cgroups and the listener's nftables table.
    public func shutdown() async {
        await execSessions.shutdown()
        await launcher.stopWarmSandboxes()
        await launcher.networks?.removeAll()
        await agents.unmountDisks()
        await audit.flush()
        launcher.cgroups?.removeEmptyGroups()
        listenerFirewall.remove(logger: logger)
    }
}
