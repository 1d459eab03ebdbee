import Foundation
import Logging
import Synchronization

/// Buffers one audit entry per tool call and writes them in batches (one transaction every
/// `interval`), so the hot path never waits for SQLite.
public final class AuditLog: Sendable {
    private let store: Store
    private let pending = Mutex<[AuditEntry]>([])
    private let logger: Logger

    public init(store: Store, logger: Logger) {
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

/// Request counters for `/metrics` (Prometheus text format).
public final class Metrics: Sendable {
    private let calls = Mutex<[String: Int]>([:])
    private let durations = Mutex<[String: Double]>([:])

    public init() {}

    public func recordCall(tool: String, status: String, seconds: Double) {
        let key = "tool=\"\(tool)\",status=\"\(status)\""
        calls.withLock { $0[key, default: 0] += 1 }
        durations.withLock { $0["tool=\"\(tool)\"", default: 0] += seconds }
    }

    public func render() -> String {
        var lines = ["# HELP agentsandbox_tool_calls_total Tool calls by tool and status.", "# TYPE agentsandbox_tool_calls_total counter"]
        for (labels, count) in calls.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            lines.append("agentsandbox_tool_calls_total{\(labels)} \(count)")
        }
        lines += ["# HELP agentsandbox_tool_call_seconds_total Time spent in tool calls.", "# TYPE agentsandbox_tool_call_seconds_total counter"]
        for (labels, seconds) in durations.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            lines.append("agentsandbox_tool_call_seconds_total{\(labels)} \(seconds)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
