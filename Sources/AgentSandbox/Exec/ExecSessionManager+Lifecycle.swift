#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import Logging
import SandboxKernel

extension ExecSessionManager {
    /// Builds the manager for a starting server: marks its predecessor's running sessions `lost` and ends
    /// an agent's sessions when it is suspended or moved away (kept, listed) or deleted (forgotten).
    public static func prepare(store: any SandboxStore, launcher: ProcessLauncher, agents: AgentRegistry, limits: ResourceLimits, logger: Logger) async throws -> ExecSessionManager {
        let manager = ExecSessionManager(store: store, launcher: launcher, limits: limits, logger: logger)
        try await manager.recoverAfterRestart()
        agents.onEnd { [manager] agent, end in
            await manager.endAll(of: agent, forget: end == .deleted)
        }
        return manager
    }

    /// Runs the retention sweep, and ends every session as soon as SIGTERM or SIGINT arrives — before the
    /// HTTP server drains, so open output streams finish with their `exit` event instead of holding it up.
    /// Cancel the returned task to stop both.
    public func startUpkeep() -> Task<Void, Never> {
        let sources = [SIGTERM, SIGINT].map { signalNumber -> any DispatchSourceSignal in
            // Swift Service Lifecycle ignores these too and listens the same way; both listeners fire.
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in Task { await shutdown() } }
            source.resume()
            return source
        }
        let interval = max(1, min(limits.execRetentionSeconds / 4, 30))
        return Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(interval))
                await sweep()
            }
            sources.forEach { $0.cancel() }
        }
    }
}
