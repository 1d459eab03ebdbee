import Foundation
import Logging
import Synchronization

/// Keeps agents away from the server's own listener while they share the host's network: one nftables
/// table of ours, `inet agentsandbox_<port>`, whose output-hook rule resets every TCP connection an
/// agent uid opens to the server port on any address of this host (`fib daddr type local`: 127.0.0.1,
/// ::1, the host's own interface addresses). Nothing else of the host's firewall is touched.
///
/// Loopback traffic to and from the server port is left out of connection tracking (`notrack`, at the raw
/// hooks). The isolated networks' NAT and `ct state` chains in this table make the kernel track every
/// connection of the namespace, and no rule of ours needs the API's own loopback connections tracked:
/// tracking them cost about 2 µs of CPU per call (perf, file_read under load). Other interfaces and
/// ports are tracked as before, so a host firewall's `ct state` rules see what they saw.
///
/// Created once the port is bound, removed on shutdown. Without `nft` (Debian: `nftables`) or when it
/// fails, the server logs a warning and runs on: agents can then reach the listener like any local client.
/// The same table holds the chains and sets of isolated agent networks (`AgentNetworkRules`), passed in
/// as `extraRules`: one table of ours, removed as a whole.
public struct ListenerFirewall: Sendable {
    /// The nftables table (family `inet`).
    public let table: String

    /// Installs the rule refusing `uids` → `port`; nil (after a warning) when nft is missing or fails.
    public static func install(port: Int, uids: ClosedRange<UInt32>, extraRules: String = "", logger: Logger) -> ListenerFirewall? {
        let firewall = ListenerFirewall(table: "agentsandbox_\(port)")
        let swept = sweepAbandoned(keeping: firewall.table)
        if swept > 0 { logger.info("nftables: deleted \(swept) table(s) of agent-sandbox servers that no longer listen") }
        // Declaring then deleting the table first makes the script replace a leftover of a crashed
        // server on the same port, atomically (nft applies a file as one transaction).
        let script = """
            table inet \(firewall.table)
            delete table inet \(firewall.table)
            table inet \(firewall.table) {
              chain output {
                type filter hook output priority 0; policy accept;
                meta skuid \(uids.lowerBound)-\(uids.upperBound) fib daddr type local tcp dport \(port) reject with tcp reset
              }
              chain untracked_api_out {
                type filter hook output priority raw; policy accept;
                oif lo tcp dport \(port) notrack
                oif lo tcp sport \(port) notrack
              }
              chain untracked_api_in {
                type filter hook prerouting priority raw; policy accept;
                iif lo tcp dport \(port) notrack
                iif lo tcp sport \(port) notrack
              }
            \(extraRules)}

            """
        if let failure = run(["-f", "-"], input: script) {
            logger.warning("nftables: could not install the rule that keeps agents (uids \(uids.lowerBound)-\(uids.upperBound)) away from this server's port \(port): \(failure). Agents on the host network can reach the listener; install nftables (apt-get install nftables) and run as root.")
            return nil
        }
        logger.info("nftables: agents (uids \(uids.lowerBound)-\(uids.upperBound)) cannot connect to port \(port) (table inet \(firewall.table))")
        return firewall
    }

    /// Deletes the table (and only it).
    public func remove(logger: Logger) {
        if let failure = Self.run(["delete", "table", "inet", table]) {
            logger.warning("nftables: could not delete table inet \(table): \(failure). Remove it with: nft delete table inet \(table)")
        }
    }

    /// Runs nft; nil on success, else a sentence with its message.
    private static func run(_ arguments: [String], input: String? = nil) -> String? {
        HostCommand.run("nft", arguments, input: input ?? "")
    }
}

extension ListenerFirewall {
    /// The rule this server installed, if any, so shutdown removes exactly what start-up created.
    public final class Slot: Sendable {
        private let installed = Mutex<ListenerFirewall?>(nil)

        public init() {}

        /// Installs the rule for `port` (replacing one this slot installed before), with `extraRules` in
        /// the same table; returns the table's name, nil when it could not be installed.
        @discardableResult
        public func install(port: Int, uids: ClosedRange<UInt32>, extraRules: String = "", logger: Logger) -> String? {
            var firewall = ListenerFirewall.install(port: port, uids: uids, extraRules: extraRules, logger: logger)
            var withExtra = firewall != nil
            if firewall == nil, !extraRules.isEmpty {
                logger.warning("nftables: installing the listener rule alone, without the isolated-network rules")
                firewall = ListenerFirewall.install(port: port, uids: uids, logger: logger)
                withExtra = false
            }
            installed.withLock { $0 = firewall }
            return withExtra ? firewall?.table : nil
        }

        /// Removes the installed rule; nothing when none was installed.
        public func remove(logger: Logger) {
            installed.withLock { firewall in
                firewall?.remove(logger: logger)
                firewall = nil
            }
        }
    }
}
