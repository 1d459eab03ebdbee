#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// The network namespaces of this server's `isolated` agents: one per agent, shared by everything the
/// agent runs (warm-sandbox calls, cold calls, exec sessions, in-sandbox MCP servers: each launch joins
/// it through the helper's `--netns`), created on the agent's first launch, kept while it is suspended
/// (its frozen processes still live in it), removed when the agent is deleted and when the server stops.
///
/// The nftables rules live in the server's one table (`AgentNetworkRules`, installed with the listener
/// rule once the port is bound); `activate(table:)` hands this the table's name, or nil when it could
/// not be installed — then isolated agents run as `none` (loopback only), never on the host network.
public actor AgentNetworks {
    nonisolated let settings: IsolatedNetworkSettings
    nonisolated let resolver: HostResolver
    nonisolated let tools: NetworkTools
    let logger: Logger
    /// nil until `activate`; then the table, or "" when isolated networking is unavailable.
    var table: String?
    /// Launches that came before `activate`, resumed by it.
    private var activationWaiters: [CheckedContinuation<Void, Never>] = []
    var networks: [String: (slot: NetworkSlot, attachment: NetworkAttachment)] = [:]
    var pending: [String: Task<(NetworkSlot, NetworkAttachment), any Error>] = [:]
    private var nextHint = 0
    /// Egress: where each agent's policy comes from, the host names' addresses, and what each agent's
    /// chain holds now (`AgentNetworks+Egress`).
    var policySource: (@Sendable (String) async -> EgressPolicy)?
    let hostnames: EgressHostnames
    var egress: [String: (policy: EgressPolicy, resolved: ResolvedEgress)] = [:]
    var refresher: Task<Void, Never>?
    /// The latest egress install; the next one waits for it.
    var installs: Task<Void, Never>?

    private init(settings: IsolatedNetworkSettings, resolver: HostResolver, tools: NetworkTools, logger: Logger) {
        self.settings = settings
        self.resolver = resolver
        self.tools = tools
        self.logger = logger
        self.hostnames = EgressHostnames(nameserver: settings.egressNameserver ?? resolver.nameserver.map { ($0, 53) })
    }

    /// The manager, or nil (after a warning) when this host cannot give agents their own network:
    /// not root, or `ip` or `nft` missing. `helper` is the exec helper, which makes the namespaces.
    public static func detect(settings: IsolatedNetworkSettings, helper: String, logger: Logger) -> AgentNetworks? {
        guard geteuid() == 0 else {
            logger.warning("network: isolated agents need root; they run with loopback only (as network \"none\")")
            return nil
        }
        guard var tools = NetworkTools.locate(helper: helper) else {
            logger.warning("network: ip (iproute2) or nft (nftables) is missing; isolated agents run with loopback only (as network \"none\"). Install them: apt-get install iproute2 nftables")
            return nil
        }
        tools.iproute2Maker = settings.iproute2Maker
        let resolver = HostResolver.read()
        if resolver.nameserver == nil {
            logger.warning("network: /etc/resolv.conf names no IPv4 nameserver; isolated agents will have no DNS")
        }
        return AgentNetworks(settings: settings, resolver: resolver, tools: tools, logger: logger)
    }

    /// The sets and chains for the server's table.
    public nonisolated var rules: String {
        AgentNetworkRules(pool: settings.pool, deny: settings.deny, nameserver: resolver.nameserver).body
    }

    /// The table holding `rules` (nil: it could not be installed; isolated agents fall back to `none`).
    public func activate(table: String?) async {
        self.table = table ?? ""
        if table != nil {
            // Leftovers of servers that were killed: namespaces, veths, their set elements and chains.
            let tools = self.tools
            let cleaned = (try? await BlockingWork.run {
                NetworkSlot.sweepStale { stale, record in Self.cleanStale(stale, record: record, tools: tools) }
            }) ?? 0
            if cleaned > 0 { logger.info("network: removed \(cleaned) agent network(s) left by a server that did not stop cleanly") }
            startEgressRefresh()
        }
        for waiter in activationWaiters { waiter.resume() }
        activationWaiters = []
        if let table {
            logger.info("network: isolated agents get their own namespace, a /31 of \(settings.pool) and NAT (nftables table inet \(table)); DNS via \(resolver.nameserver ?? "none")")
        } else {
            logger.warning("network: the nftables rules could not be installed; isolated agents run with loopback only (as network \"none\")")
        }
    }

    /// The agent's namespace, created on first use; nil when isolated networking is unavailable (the
    /// launch then runs as `none`). A launch that comes before `activate` (the port is bound first) waits
    /// for it: the server calls `activate` once it listens, before it serves a request.
    public func attachment(for agent: String) async throws -> NetworkAttachment? {
        if table == nil { await withCheckedContinuation { activationWaiters.append($0) } }
        guard let table, !table.isEmpty else { return nil }
        if let network = networks[agent] { return network.attachment }
        if let running = pending[agent] { return try await running.value.1 }
        let hint = nextHint
        nextHint = (nextHint + 1) % max(1, Int(settings.pool.size / 2))
        let policy = await policySource?(agent) ?? settings.egress
        let resolved = await resolve(policy)
        let task = Task { [settings, resolver, tools] in
            try await BlockingWork.run {
                try Self.create(agent: agent, table: table, hint: hint, egress: resolved, settings: settings, resolver: resolver, tools: tools)
            }
        }
        pending[agent] = task
        defer { pending[agent] = nil }
        do {
            let (slot, attachment) = try await task.value
            networks[agent] = (slot, attachment)
            egress[agent] = (policy, resolved)
            return attachment
        } catch {
            logger.error("network: could not create the network of agent \(agent): \(error)")
            throw error
        }
    }

    /// Removes the agent's namespace, veth pair and set element (the agent was deleted).
    public func remove(agent: String) async {
        if let running = pending[agent] { _ = try? await running.value }
        egress[agent] = nil
        guard let network = networks.removeValue(forKey: agent), let table else { return }
        let tools = self.tools
        _ = try? await BlockingWork.run { Self.teardown(network.slot, table: table, tools: tools) }
    }

    /// Removes every namespace of this server (shutdown) and restores `ip_forward` if no server needs it.
    public func removeAll() async {
        let all = Array(networks.values)
        networks = [:]
        egress = [:]
        refresher?.cancel()
        let (table, tools) = (self.table ?? "", self.tools)
        _ = try? await BlockingWork.run {
            for network in all { Self.teardown(network.slot, table: table, tools: tools) }
            IPForwarding.restoreIfUnused()
        }
    }

    /// How many agent namespaces are up.
    public var count: Int { networks.count }

    private static func create(
        agent: String, table: String, hint: Int, egress: ResolvedEgress, settings: IsolatedNetworkSettings, resolver: HostResolver, tools: NetworkTools
    ) throws -> (NetworkSlot, NetworkAttachment) {
        let capacity = Int(min(settings.pool.size / 2, 32768))
        let slot = try NetworkSlot.claim(capacity: capacity, hint: hint, agent: agent, table: table) { stale, record in
            Self.cleanStale(stale, record: record, tools: tools)
        }
        do {
            guard IPForwarding.enable() else { throw NetworkCommand.Failure(description: "cannot turn on net.ipv4.ip_forward") }
            try AgentNamespace(slot: slot, tools: tools).create(pool: settings.pool, localnetDNS: resolver.isLoopback)
            // The egress chain first, then the interface joins the agents' set: one transaction.
            let rules = EgressRules(table: table, index: slot.index, interface: slot.interface)
            let script = rules.apply(egress, allowPrivate: settings.allowPrivateEgress)
                + "add element inet \(table) \(AgentNetworkRules.interfaceSet) { \"\(slot.interface)\" }\n"
            try NetworkCommand.run(tools.nft, ["-f", "-"], input: script)
        } catch {
            teardown(slot, table: table, tools: tools)
            throw error
        }
        let (host, address) = slot.addresses(in: settings.pool)
        let gateway = IPv4Network.format(host)
        return (slot, NetworkAttachment(
            namespacePath: slot.namespacePath, address: IPv4Network.format(address), gateway: gateway,
            resolvConf: resolver.agentFile(gateway: gateway), resolvConfPath: resolver.path))
    }

    /// Undoes what a dead server left in `slot` (its record names the table its rules were in).
    private static func cleanStale(_ slot: NetworkSlot, record: String, tools: NetworkTools) {
        if let oldTable = NetworkSlot.field("table", in: record) { removeElement(slot, table: oldTable, tools: tools) }
        AgentNamespace(slot: slot, tools: tools).remove()
    }

    private static func teardown(_ slot: NetworkSlot, table: String, tools: NetworkTools) {
        removeElement(slot, table: table, tools: tools)
        AgentNamespace(slot: slot, tools: tools).remove()
        slot.release()
    }

    /// Takes the slot's interface out of the agents' set and removes its egress chain and sets, in one
    /// transaction that succeeds whether or not they exist (it fails, changing nothing, when the table is gone).
    private static func removeElement(_ slot: NetworkSlot, table: String, tools: NetworkTools) {
        guard !table.isEmpty else { return }
        let set = "inet \(table) \(AgentNetworkRules.interfaceSet) { \"\(slot.interface)\" }"
        let script = "add element \(set)\ndelete element \(set)\n" + EgressRules(table: table, index: slot.index, interface: slot.interface).remove
        try? NetworkCommand.run(tools.nft, ["-f", "-"], input: script)
    }
}

extension ProcessLauncher {
    /// `request` with its agent's network namespace filled in when it is `isolated` (created on the
    /// agent's first launch); unchanged otherwise, or without one when the host cannot make it.
    func attachingNetwork(_ request: LaunchRequest) async throws -> LaunchRequest {
        guard request.network == .isolated, request.networkAttachment == nil, let networks else { return request }
        var attached = request
        do {
            attached.networkAttachment = try await networks.attachment(for: request.agent)
        } catch {
            throw LaunchError(description: "could not set up the agent's network namespace: \(error)")
        }
        return attached
    }
}
