#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SandboxKernel

/// `PATCH /v1/agents/{id}` `{"limits": {...}, "egress": {...}}`: changes an agent's limits and egress
/// policy while it lives. `pids_max`,
/// `memory_bytes`, `cpu_weight` reach its cgroup at once; `max_concurrent_calls` its next call.
///
/// `disk_bytes` resizes its disk image. Raising grows ext4 online when the kernel lets the server
/// (CAP_SYS_RESOURCE): nothing stops. Otherwise — and always when lowering, ext4 cannot shrink while
/// mounted — the image is resized offline: the agent's exec sessions end (listed as ended), its
/// processes and warm sandbox stop, calls meanwhile get 429, and it is back in well under a second for
/// small disks. Lowering below what the agent uses now is refused (400 naming `limits.disk_bytes`);
/// an agent whose workspace has no image (made while caps were off) gets one at the next start-up of a
/// server with `--disk-bytes`.
public struct AgentLimitsUpdate: Sendable {
    let agents: AgentRegistry
    let launcher: ProcessLauncher
    let sessions: ExecSessionManager

    public init(agents: AgentRegistry, launcher: ProcessLauncher, sessions: ExecSessionManager) {
        self.agents = agents
        self.launcher = launcher
        self.sessions = sessions
    }

    /// Applies the body's `limits` and `egress` and answers the updated agent.
    ///
    /// `egress` (`{"allow": [...], "deny": [...]}`) replaces the agent's policy; `null` puts it back on
    /// the server's default. It reaches the agent's nftables chain before the reply: the next connection
    /// obeys it, running processes and open connections go on.
    public func apply(_ id: AgentID, body: JSONValue) async throws -> Agent {
        let requested = try AgentSettings.parse(.object(["limits": body["limits"] ?? .null]))
        let egress: EgressPolicy?? = switch body["egress"] {
        case nil: .none
        case .null?: .some(nil)
        case let value?: .some(try EgressPolicy.parse(value))
        }
        var agent = try await agents.agent(id)
        if let bytes = requested.diskBytes, bytes != agent.settings.diskBytes { try await resizeDisk(agent, to: bytes) }
        agent = try await agents.updateSettings(of: id) { settings in
            if let value = requested.pidsMax { settings.pidsMax = value }
            if let value = requested.memoryBytes { settings.memoryBytes = value }
            if let value = requested.cpuWeight { settings.cpuWeight = value }
            if let value = requested.maxConcurrentCalls { settings.maxConcurrentCalls = value }
            if let value = requested.diskBytes { settings.diskBytes = value }
            if let egress { settings.egress = egress }
        }
        agents.cgroups?.prepareAgent(id.rawValue, limits: agents.limits(of: agent).processLimits)
        if egress != nil {
            do {
                try await launcher.networks?.updateEgress(agent: id.rawValue)
            } catch {
                throw ToolError(.internalError, "The egress policy was saved but could not be applied to agent \(id)'s network now (\(error)); it applies when its network is made again (after a server restart). Retry the PATCH to apply it live.")
            }
        }
        return agent
    }

    private func resizeDisk(_ agent: Agent, to bytes: Int64) async throws {
        let image = agents.diskImage(agent.id.rawValue)
        guard agent.settings.diskBytes != nil, image.exists else {
            throw ToolError.invalidField("limits.disk_bytes", "cannot be changed: agent \(agent.id)'s workspace has no disk image (it was made while disk caps were off). A server started with --disk-bytes moves it into one at start-up.")
        }
        let lease = try await agents.leaseDisk(agent)
        defer { lease?.release() }
        if let used = image.usage()?.used, used + (4 << 20) > bytes {
            throw ToolError.invalidField("limits.disk_bytes", "is below what agent \(agent.id) uses now (\(used) bytes, plus 4 MiB for the file system). Delete files first, or choose a larger cap.")
        }
        if bytes > (image.bytes ?? 0), try await BlockingWork.run({ image.growOnline(to: bytes) }) { return }
        try await agents.whileDiskOffline(agent) {
            await sessions.endAll(of: agent.id, forget: false)
            await launcher.stopWarmSandbox(agent: agent.id.rawValue)
        } work: {
            try await BlockingWork.run { try image.resizeOffline(to: bytes) }
        }
    }
}
