/// The nftables part of isolated networking, as chains and sets of the server's one table
/// (`inet agentsandbox_<port>`, see `ListenerFirewall`). Every rule matches only this server's agents —
/// packets arriving from an interface in `agent_ifs` (the host ends of their veth pairs, added and
/// removed with each agent) — so other servers' tables and the host's own firewall are left alone.
///
/// For a packet from an agent:
/// - to port 53 of any host address (or of the nameserver itself): redirected to the host's nameserver
///   (`HostResolver`), allowed;
/// - to the host itself (any of its addresses, its loopback services, this server's port): refused;
/// - to another agent (the pool, or any `asv*` interface) or to IPv6: refused;
/// - opening a connection: the agent's egress policy (`EgressRules`, its own chain reached through the
///   `agent_egress` map) refuses it, or lets it on (accepts it, for an allow entry under
///   `--egress-allow-private`);
/// - to a denied range (RFC 1918, 100.64/10, 169.254/16, multicast, …): refused;
/// - anywhere else: forwarded and masqueraded behind the host's address.
/// Refused means a TCP reset or an ICMP "administratively prohibited": a blocked connection fails at
/// once instead of hanging. Connections from outside into an agent are refused too; the host itself
/// may still connect in (replies pass as `established`).
struct AgentNetworkRules: Sendable {
    let pool: IPv4Network
    let deny: [IPv4Network]
    /// The host's nameserver DNS is redirected to; nil: no redirect.
    let nameserver: String?

    static let interfaceSet = "agent_ifs"

    /// The sets and chains, as lines inside `table inet NAME { … }`.
    var body: String {
        let set = "@\(Self.interfaceSet)"
        let ranges = (deny + [pool]).map(\.description).joined(separator: ", ")
        var lines = [
            "set \(Self.interfaceSet) { type ifname; }",
            "set agent_deny { type ipv4_addr; flags interval; auto-merge; elements = { \(ranges) } }",
            "map \(EgressRules.map) { type ifname : verdict; }",
        ]
        if let nameserver {
            lines += [
                "chain agent_dns {",
                "  type nat hook prerouting priority dstnat; policy accept;",
                "  iifname \(set) fib daddr type local meta l4proto { tcp, udp } th dport 53 dnat ip to \(nameserver)",
                // Without bubblewrap the agent reads the host's resolv.conf: the same door, addressed directly.
                "  iifname \(set) ip daddr \(nameserver) meta l4proto { tcp, udp } th dport 53 dnat ip to \(nameserver)",
                "}",
            ]
        }
        lines += [
            "chain agent_input {",
            "  type filter hook input priority filter; policy accept;",
            "  iifname \(set) ct state established,related accept",
            "  iifname \(set) ct status dnat meta l4proto { tcp, udp } th dport 53 accept",
            "  iifname \(set) meta l4proto tcp reject with tcp reset",
            "  iifname \(set) reject with icmpx admin-prohibited",
            "}",
            "chain agent_forward {",
            "  type filter hook forward priority filter; policy accept;",
            "  iifname \(set) ct status dnat meta l4proto { tcp, udp } th dport 53 accept",
            "  iifname \(set) meta nfproto ipv6 reject with icmpx admin-prohibited",
            "  iifname \(set) oifname \"asv*\" meta l4proto tcp reject with tcp reset",
            "  iifname \(set) oifname \"asv*\" reject with icmpx admin-prohibited",
            "  iifname \(set) ip daddr \(pool) meta l4proto tcp reject with tcp reset",
            "  iifname \(set) ip daddr \(pool) reject with icmpx admin-prohibited",
            "  iifname \(set) ct state { new, invalid, untracked } iifname vmap @\(EgressRules.map)",
            "  iifname \(set) ip daddr @agent_deny meta l4proto tcp reject with tcp reset",
            "  iifname \(set) ip daddr @agent_deny reject with icmpx admin-prohibited",
            "  oifname \(set) ct state established,related accept",
            "  oifname \(set) reject with icmpx admin-prohibited",
            "}",
            "chain agent_nat {",
            "  type nat hook postrouting priority srcnat; policy accept;",
            "  ip saddr \(pool) oifname != \"asv*\" masquerade",
            "}",
        ]
        return lines.map { "  " + $0 }.joined(separator: "\n") + "\n"
    }
}
