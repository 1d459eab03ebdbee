import SandboxKernel
import Synchronization

/// One user of an agent's disk image: the image stays mounted while any lease on it lives (`DiskMounts`).
public final class DiskLease: Sendable {
    let entry: DiskMounts.Entry
    let mounts: DiskMounts
    private let released = Atomic<Bool>(false)

    init(entry: DiskMounts.Entry, mounts: DiskMounts) {
        self.entry = entry
        self.mounts = mounts
    }

    /// Ends the lease (once; later calls do nothing).
    public func release() {
        guard !released.exchange(true, ordering: .relaxed) else { return }
        mounts.release(entry)
    }

    deinit { release() }
}

extension AgentRegistry {
    /// A lease on the agent's disk image, mounted for it (nil: its workspace is a plain directory).
    /// Everything that touches the workspace holds one; `CallPipeline.begin` takes it for every call
    /// (on the caller's executor, as `begin` runs: no executor switch per call).
    nonisolated(nonsending) public func leaseDisk(_ agent: Agent) async throws -> DiskLease? {
        try await mounts.lease(agent.id.rawValue, workspace: agent.workspacePath)
    }

    /// Unmounts idle images every few seconds, for the server's life (nothing to do with `--disk-idle 0`).
    func startIdleUnmounts() {
        let seconds = mounts.idleSeconds
        guard seconds > 0 else { return }
        let period = max(0.25, min(seconds / 4, 15))
        Task.detached { [weak self] in
            while let registry = self {
                await registry.mounts.sweep()
                try? await Task.sleep(for: .seconds(period))
            }
        }
    }
}
