import Foundation
import Logging
import Synchronization

/// Buffers one audit entry per tool call and writes them in batches (one transaction every
/// `interval`), so the hot path never waits for SQLite.
public final class AuditLog: Sendable {
    private let store: any SandboxStore
    private let pending = Mutex<[AuditEntry]>([])
    private let logger: Logger

    public init(store: any SandboxStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func record(_ entry: AuditEntry) {
        pending.withLock { $0.append(entry) }
    }

    /// Writes everything buffered so far.
    public func flush() async {
        let batch = pending.withLock { entries in
            defer { entries.removeAll(keepingCapacity: true) }
            return entries
        }
        do {
            try await store.recordAudit(batch)
        } catch {
            logger.error("audit log write failed (\(batch.count) entries): \(error)")
        }
    }

    /// Flushes every `interval` until cancelled.
    public func runFlushLoop(interval: Duration = .milliseconds(250)) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await flush()
        }
    }
}
