import Foundation
import Synchronization
import SandboxKernel

/// The server's Prometheus metrics (`GET /metrics`, text format 0.0.4): a latency histogram per
/// operation, entry point and outcome, calls in flight, spawn failures, and gauges read when scraped
/// (agents by state, running exec sessions, warm sandboxes).
///
/// Recording a call is one lock and a few additions; label text is built only when `/metrics` is read.
public final class Metrics: Sendable {
    /// Upper bounds of the latency buckets, seconds.
    static let buckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

    private struct Series: Hashable {
        let operation: String
        let entry: String
        let status: String
    }

    private struct Histogram {
        var counts = [Int](repeating: 0, count: Metrics.buckets.count)
        var total = 0
        var sum = 0.0

        mutating func add(_ seconds: Double, bucket: Int?) {
            if let bucket { counts[bucket] += 1 }
            total += 1
            sum += seconds
        }
    }

    private struct State {
        var calls: [Series: Histogram] = [:]
        var spawnFailures = 0
    }

    private let state = Mutex(State())
    private let inFlight = Atomic<Int>(0)
    private let gauges = Mutex<[@Sendable () async -> [Gauge]]>([])

    public init() {}

    /// One gauge sample: a metric name, its help text, labels and value.
    public struct Gauge: Sendable {
        public let name: String
        public let help: String
        public let labels: [(String, String)]
        public let value: Double

        public init(_ name: String, help: String, labels: [(String, String)] = [], value: Double) {
            self.name = name
            self.help = help
            self.labels = labels
            self.value = value
        }
    }

    public func callStarted() { inFlight.add(1, ordering: .relaxed) }
    public func callEnded() { inFlight.subtract(1, ordering: .relaxed) }

    /// Counts one finished call: `status` is `ok` or its error code.
    public func recordCall(tool: String, entry: String, status: String, seconds: Double) {
        let series = Series(operation: tool, entry: entry, status: status)
        let bucket = Self.buckets.firstIndex { seconds <= $0 }
        state.withLock { state in
            // In place: one hash of the series, and its counts array is not copied.
            state.calls[series, default: Histogram()].add(seconds, bucket: bucket)
            if status == ToolError.Code.execFailed.rawValue { state.spawnFailures += 1 }
        }
    }

    /// Adds gauges read at scrape time.
    public func addGauges(_ read: @escaping @Sendable () async -> [Gauge]) {
        gauges.withLock { $0.append(read) }
    }

    /// The Prometheus text exposition.
    public func render() async -> String {
        let snapshot = state.withLock { $0 }
        var lines = [
            "# HELP agentsandbox_call_duration_seconds Calls by operation, entry point and status (ok or error code).",
            "# TYPE agentsandbox_call_duration_seconds histogram",
        ]
        for (series, histogram) in snapshot.calls.sorted(by: { Self.label($0.key) < Self.label($1.key) }) {
            let labels = Self.label(series)
            var cumulative = 0
            for (index, bound) in Self.buckets.enumerated() {
                cumulative += histogram.counts[index]
                lines.append("agentsandbox_call_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(cumulative)")
            }
            lines.append("agentsandbox_call_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(histogram.total)")
            lines.append("agentsandbox_call_duration_seconds_sum{\(labels)} \(histogram.sum)")
            lines.append("agentsandbox_call_duration_seconds_count{\(labels)} \(histogram.total)")
        }
        lines += [
            "# HELP agentsandbox_calls_in_flight Calls admitted and not yet answered.",
            "# TYPE agentsandbox_calls_in_flight gauge",
            "agentsandbox_calls_in_flight \(inFlight.load(ordering: .relaxed))",
            "# HELP agentsandbox_spawn_failures_total Calls whose command could not be started.",
            "# TYPE agentsandbox_spawn_failures_total counter",
            "agentsandbox_spawn_failures_total \(snapshot.spawnFailures)",
        ]
        var described: Set<String> = []
        for read in gauges.withLock({ $0 }) {
            for gauge in await read() {
                if described.insert(gauge.name).inserted {
                    lines += ["# HELP \(gauge.name) \(gauge.help)", "# TYPE \(gauge.name) gauge"]
                }
                let labels = gauge.labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",")
                lines.append(labels.isEmpty ? "\(gauge.name) \(gauge.value)" : "\(gauge.name){\(labels)} \(gauge.value)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func label(_ series: Series) -> String {
        "operation=\"\(escape(series.operation))\",entry=\"\(series.entry)\",status=\"\(escape(series.status))\""
    }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}

/// The gauges `/metrics` reads from the live services.
enum MetricsGauges {
    static func collect(agents: AgentRegistry, sessions: ExecSessionManager, launcher: ProcessLauncher) async -> [Metrics.Gauge] {
        var gauges: [Metrics.Gauge] = []
        for (state, count) in (try? await agents.countByState()) ?? [:] {
            gauges.append(Metrics.Gauge("agentsandbox_agents", help: "Agents by state.", labels: [("state", state)], value: Double(count)))
        }
        gauges.append(Metrics.Gauge("agentsandbox_exec_sessions_running", help: "Exec sessions whose command is running.", value: Double(sessions.runningCount)))
        gauges.append(Metrics.Gauge("agentsandbox_warm_sandboxes", help: "Warm per-agent sandboxes alive.", value: Double(await launcher.warmSandboxCount())))
        return gauges
    }
}
