import Foundation

/// Egress policies of isolated agents (`EgressPolicy`, `EgressRules`): installed with the agent's
/// namespace, replaced live by `updateEgress` (`PATCH /v1/agents/{id}`), and refreshed when a host
/// name's DNS answer expires. A change is one `nft -f` transaction on the agent's own chain and sets:
/// the agent's next connection obeys it, its processes and open connections go on.
extension AgentNetworks {
    /// Where the policy of an agent comes from (its settings, else the server's default). Set once,
    /// before the server serves requests.
    public func setPolicySource(_ source: @escaping @Sendable (String) async -> EgressPolicy) {
        policySource = source
    }

    /// `policy` with its host names' current addresses.
    func resolve(_ policy: EgressPolicy) async -> ResolvedEgress {
        let names = EgressHostnames.names(in: policy)
        let addresses = names.isEmpty ? [:] : await hostnames.addresses(of: names)
        return ResolvedEgress(policy, addresses: { addresses[$0] ?? [] })
    }

    /// Applies the agent's current policy to its chain if its namespace exists (else the namespace is
    /// made with it). Throws when nft refused the change; the previous rules then stay in force.
    public func updateEgress(agent: String) async throws {
        if let running = pending[agent] { _ = try? await running.value }
        guard networks[agent] != nil else { return }
        try await installLatest(agent)
    }
    /// The host names' addresses of every live agent's policy, looked up again as they expire; an agent
    /// whose addresses changed gets its sets refilled.
    func startEgressRefresh() {
        refresher?.cancel()
        refresher = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                let wait = await self.refreshDueNames()
                try? await Task.sleep(for: wait)
            }
        }
    }

    /// One refresh pass; answers how long to sleep before the next (1 s to `minimumTTL`).
    private func refreshDueNames() async -> Duration {
        let names = egress.values.reduce(into: Set<String>()) { $0.formUnion(EgressHostnames.names(in: $1.policy)) }
        await hostnames.keep(only: names)
        guard !names.isEmpty else { return .seconds(Int(EgressHostnames.minimumTTL)) }
        for (agent, current) in egress where !EgressHostnames.names(in: current.policy).isEmpty {
            guard await resolve(current.policy) != current.resolved else { continue }
            do {
                try await installLatest(agent)
            } catch {
                logger.warning("network: could not refresh the egress addresses of agent \(agent): \(error)")
            }
        }
        // At most the shortest TTL: an agent made meanwhile brings names whose answers expire soon.
        guard let next = await hostnames.nextExpiry(of: names) else { return .seconds(Int(EgressHostnames.minimumTTL)) }
        return min(max(next - ContinuousClock.now, .seconds(1)), .seconds(Int(EgressHostnames.minimumTTL)))
    }

    /// Installs the agent's policy as it is now, with its host names' current addresses, unless that is
    /// what its chain holds. Installs run one at a time, in order, each reading the policy at its turn:
    /// a refresh that overlaps a PATCH cannot put back the policy the PATCH replaced.
    private func installLatest(_ agent: String) async throws {
        let previous = installs
        let turn = Task { [weak self] in
            await previous?.value
            try await self?.installNow(agent)
        }
        installs = Task { _ = try? await turn.value }
        try await turn.value
    }

    private func installNow(_ agent: String) async throws {
        guard let network = networks[agent], let table, !table.isEmpty else { return }
        let policy = await policySource?(agent) ?? settings.egress
        let resolved = await resolve(policy)
        if let current = egress[agent], current.policy == policy, current.resolved == resolved { return }
        let rules = EgressRules(table: table, index: network.slot.index, interface: network.slot.interface)
        let script = rules.apply(resolved, allowPrivate: settings.allowPrivateEgress)
        let tools = self.tools
        try await BlockingWork.run { try NetworkCommand.run(tools.nft, ["-f", "-"], input: script) }
        guard networks[agent] != nil else { return }
        egress[agent] = (policy, resolved)
    }
}
