import Foundation

/// The agents' warm sandboxes: started on an agent's first call, replaced when the zygote died or the
/// agent's settings changed, stopped after `idleSeconds` without calls (an idle agent costs no processes).
actor WarmSandboxPool {
    private var sandboxes: [String: WarmSandbox] = [:]
    private var starting: [String: Task<WarmSandbox, any Error>] = [:]
    /// Seconds without calls after which an agent's sandbox is stopped.
    nonisolated let idleSeconds: Double

    init(idleSeconds: Double) {
        self.idleSeconds = idleSeconds
    }

    /// How many sandboxes are up (for `/metrics`).
    var count: Int { sandboxes.count }

    /// The agent's running sandbox, or a new one (one start at a time per agent).
    func sandbox(for request: LaunchRequest, launcher: ProcessLauncher) async throws -> WarmSandbox {
        let fingerprint = WarmSandbox.fingerprint(request, limits: request.limits ?? launcher.limits)
        if let sandbox = sandboxes[request.agent] {
            if sandbox.fingerprint == fingerprint, sandbox.isAlive { return sandbox }
            discard(sandbox)
        }
        if let pending = starting[request.agent] { return try await pending.value }
        let task = Task { try await BlockingWork.runSpawn { try WarmSandbox.start(for: request, launcher: launcher) } }
        starting[request.agent] = task
        do {
            let sandbox = try await task.value
            starting[request.agent] = nil
            sandboxes[request.agent] = sandbox
            return sandbox
        } catch {
            starting[request.agent] = nil
            throw error
        }
    }

    /// Forgets `sandbox` and stops it in the background.
    func discard(_ sandbox: WarmSandbox) {
        if sandboxes[sandbox.agent] === sandbox { sandboxes[sandbox.agent] = nil }
        Self.stopInBackground(sandbox)
    }

    /// Stops the agent's sandbox, if it has one.
    func stop(agent: String) {
        if let sandbox = sandboxes.removeValue(forKey: agent) { Self.stopInBackground(sandbox) }
    }

    /// Stops every sandbox (server shutdown).
    func stopAll() async {
        let all = Array(sandboxes.values)
        sandboxes = [:]
        _ = try? await BlockingWork.runSpawn { all.forEach { $0.stop() } }
    }

    /// Stops the sandboxes idle for `idleSeconds` or more.
    func sweep() {
        for (agent, sandbox) in sandboxes where sandbox.retireIfIdle(for: idleSeconds) {
            sandboxes[agent] = nil
            Self.stopInBackground(sandbox)
        }
    }

    /// Sweeps every `idleSeconds / 2` (at most 30 s) until cancelled.
    func runUpkeep() async {
        let interval = max(0.2, min(30, idleSeconds / 2))
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(interval))
            sweep()
        }
    }

    private static func stopInBackground(_ sandbox: WarmSandbox) {
        Task.detached { _ = try? await BlockingWork.runSpawn { sandbox.stop() } }
    }
}
