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
///
/// Counted by tool and status as given; the label text is built only when `/metrics` is read.
public final class Metrics: Sendable {
    private struct Counters {
        var calls: [String: [String: Int]] = [:]
        var seconds: [String: Double] = [:]
    }
    private let counters = Mutex(Counters())

    public init() {}

    public func recordCall(tool: String, status: String, seconds: Double) {
        counters.withLock { counters in
            counters.calls[tool, default: [:]][status, default: 0] += 1
            counters.seconds[tool, default: 0] += seconds
        }
    }

    public func render() -> String {
        let counters = counters.withLock { $0 }
        var calls: [(String, Int)] = []
        for (tool, byStatus) in counters.calls {
            for (status, count) in byStatus { calls.append(("tool=\"\(tool)\",status=\"\(status)\"", count)) }
        }
        var lines = ["# HELP agentsandbox_tool_calls_total Tool calls by tool and status.", "# TYPE agentsandbox_tool_calls_total counter"]
        for (labels, count) in calls.sorted(by: { $0.0 < $1.0 }) {
            lines.append("agentsandbox_tool_calls_total{\(labels)} \(count)")
        }
        lines += ["# HELP agentsandbox_tool_call_seconds_total Time spent in tool calls.", "# TYPE agentsandbox_tool_call_seconds_total counter"]
        for (labels, seconds) in counters.seconds.map({ ("tool=\"\($0.key)\"", $0.value) }).sorted(by: { $0.0 < $1.0 }) {
            lines.append("agentsandbox_tool_call_seconds_total{\(labels)} \(seconds)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
