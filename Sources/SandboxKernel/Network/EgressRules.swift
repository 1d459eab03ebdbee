/// An agent's egress policy as nftables set elements: host names replaced by their addresses.
struct ResolvedEgress: Sendable, Equatable {
    /// `ipv4_addr` interval elements (`203.0.113.0/24`) and `ipv4_addr . inet_service` ones (`… . 443`).
    var allowNetworks: [String] = []
    var allowServices: [String] = []
    var denyNetworks: [String] = []
    var denyServices: [String] = []
    /// A non-empty allow list: only its entries pass.
    var restrictive = false

    init() {}

    /// `policy` with each host name's addresses from `addresses` (none: the entry matches nothing).
    init(_ policy: EgressPolicy, addresses: (String) -> [UInt32]) {
        func elements(_ list: [String]) -> (networks: [String], services: [String]) {
            var networks = Set<String>(), services = Set<String>()
            for entry in list.compactMap(EgressEntry.init) {
                let targets: [String]
                switch entry.destination {
                case .network(let network): targets = [network.description]
                case .host(let name): targets = addresses(name).map(IPv4Network.format)
                }
                guard let ports = entry.ports else { networks.formUnion(targets); continue }
                let service = ports.count == 1 ? "\(ports.lowerBound)" : "\(ports.lowerBound)-\(ports.upperBound)"
                services.formUnion(targets.map { "\($0) . \(service)" })
            }
            return (networks.sorted(), services.sorted())
        }
        (allowNetworks, allowServices) = elements(policy.allow)
        (denyNetworks, denyServices) = elements(policy.deny)
        restrictive = !policy.allow.isEmpty
    }
}

/// The nftables objects of one agent's egress policy in the server's table: a chain `egress_<N>` that
/// the forward chain jumps to through the map `agent_egress` (keyed by the agent's host interface, for
/// new connections only: a connection already open keeps going when the policy changes), and four
/// interval sets it matches against. The chain:
/// 1. the deny sets → refused (TCP reset, else ICMP administratively prohibited): deny wins;
/// 2. the allow sets → `return` to the forward chain, whose built-in deny list comes next (so an allow
///    entry cannot open the host, private ranges or metadata), or `accept` when the server opted in with
///    `--egress-allow-private` (explicit allow entries then open private ranges; never the host itself,
///    the address pool or other agents, refused before the jump);
/// 3. a non-empty allow list: everything else refused.
/// Every change is one `nft -f` transaction: the chain and sets are flushed and refilled atomically.
struct EgressRules {
    let table: String
    let index: Int
    let interface: String

    static let map = "agent_egress"
    var chain: String { "egress_\(index)" }
    private var sets: [(name: String, type: String)] {
        [("\(chain)_an", "ipv4_addr; flags interval; auto-merge"), ("\(chain)_ap", "ipv4_addr . inet_service; flags interval"),
         ("\(chain)_dn", "ipv4_addr; flags interval; auto-merge"), ("\(chain)_dp", "ipv4_addr . inet_service; flags interval")]
    }

    /// Statements that create (if needed) and fill the chain and sets, and map the interface to the chain.
    func apply(_ egress: ResolvedEgress, allowPrivate: Bool) -> String {
        let prefix = "inet \(table)"
        var lines = ["add chain \(prefix) \(chain)", "flush chain \(prefix) \(chain)"]
        let contents = [egress.allowNetworks, egress.allowServices, egress.denyNetworks, egress.denyServices]
        for (set, elements) in zip(sets, contents) {
            lines += ["add set \(prefix) \(set.name) { type \(set.type); }", "flush set \(prefix) \(set.name)"]
            if !elements.isEmpty { lines.append("add element \(prefix) \(set.name) { \(elements.joined(separator: ", ")) }") }
        }
        let (an, ap, dn, dp) = (sets[0].name, sets[1].name, sets[2].name, sets[3].name)
        let rule = "add rule \(prefix) \(chain)"
        let ports = "meta l4proto { tcp, udp } ip daddr . th dport"
        lines += [
            "\(rule) ip daddr @\(dn) meta l4proto tcp reject with tcp reset",
            "\(rule) ip daddr @\(dn) reject with icmpx admin-prohibited",
            "\(rule) \(ports) @\(dp) meta l4proto tcp reject with tcp reset",
            "\(rule) \(ports) @\(dp) reject with icmpx admin-prohibited",
        ]
        if egress.restrictive || allowPrivate {
            let verdict = allowPrivate ? "accept" : "return"
            lines += ["\(rule) ip daddr @\(an) \(verdict)", "\(rule) \(ports) @\(ap) \(verdict)"]
        }
        if egress.restrictive {
            lines += ["\(rule) meta l4proto tcp reject with tcp reset", "\(rule) reject with icmpx admin-prohibited"]
        }
        lines.append("add element \(prefix) \(Self.map) { \"\(interface)\" : jump \(chain) }")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Statements that remove the interface's map element, the chain and the sets, each declared first so
    /// that the transaction succeeds whether or not they exist (the table itself must).
    var remove: String {
        let prefix = "inet \(table)"
        var lines = ["add chain \(prefix) \(chain)"]
        lines += sets.map { "add set \(prefix) \($0.name) { type \($0.type); }" }
        lines += [
            "add element \(prefix) \(Self.map) { \"\(interface)\" : jump \(chain) }",
            "delete element \(prefix) \(Self.map) { \"\(interface)\" }",
            "flush chain \(prefix) \(chain)",
            "delete chain \(prefix) \(chain)",
        ]
        lines += sets.map { "delete set \(prefix) \($0.name)" }
        return lines.joined(separator: "\n") + "\n"
    }
}
