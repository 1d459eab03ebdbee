import SandboxKernel
/// Per-agent overrides chosen at creation (`POST /v1/agents {"network": "none", "limits": {...}}`);
/// unset fields fall back to the server's configuration.
public struct AgentSettings: Codable, Sendable, Equatable {
    public var network: NetworkPolicy?
    public var pidsMax: Int?
    public var memoryBytes: Int64?
    /// Relative CPU weight, 1…10000 (100 = default share).
    public var cpuWeight: Int?
    public var maxConcurrentCalls: Int?
    /// The agent's disk cap in bytes (the size of its disk image); nil: no image, no cap.
    public var diskBytes: Int64?
    /// The persistent working directory (`POST /v1/agents/{id}/cwd`), relative to the workspace root:
    /// where an exec without `cwd` starts. nil: the root.
    public var cwd: String?
    /// The agent's own egress policy; nil: it follows the server's default (`--egress-allow`, `--egress-deny`).
    public var egress: EgressPolicy?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case network
        case pidsMax = "pids_max"
        case memoryBytes = "memory_bytes"
        case cpuWeight = "cpu_weight"
        case maxConcurrentCalls = "max_concurrent_calls"
        case diskBytes = "disk_bytes"
        case cwd
        case egress
    }

    /// Parses the creation body's `network`, `egress` and `limits`, naming the field on bad input.
    public static func parse(_ body: JSONValue) throws(ToolError) -> AgentSettings {
        var settings = AgentSettings()
        switch body["network"] {
        case nil, .null?: break
        case .string(let text)?:
            guard let policy = NetworkPolicy(rawValue: text) else { throw ToolError.invalidField("network", "must be \(NetworkPolicy.choices).") }
            settings.network = policy
        default: throw ToolError.invalidField("network", "must be \(NetworkPolicy.choices).")
        }
        if let egress = body["egress"], egress != .null { settings.egress = try EgressPolicy.parse(egress) }
        guard let limits = body["limits"], limits != .null else { return settings }
        guard case .object = limits else { throw ToolError.invalidField("limits", "must be an object.") }
        func integer(_ key: String, _ range: ClosedRange<Double>) throws(ToolError) -> Double? {
            guard let value = limits[key], value != .null else { return nil }
            guard case .number(let number) = value, number.rounded() == number, range.contains(number) else {
                throw ToolError.invalidField("limits.\(key)", "must be an integer between \(Int64(range.lowerBound)) and \(Int64(range.upperBound)).")
            }
            return number
        }
        settings.pidsMax = try integer("pids_max", 8...65536).map { Int($0) }
        settings.memoryBytes = try integer("memory_bytes", Double(16 << 20)...Double(1 << 40)).map { Int64($0) }
        settings.cpuWeight = try integer("cpu_weight", 1...10000).map { Int($0) }
        settings.maxConcurrentCalls = try integer("max_concurrent_calls", 1...1024).map { Int($0) }
        settings.diskBytes = try integer("disk_bytes", Double(DiskImage.minimumBytes)...Double(Self.maxDiskBytes)).map { Int64($0) }
        return settings
    }

    /// The largest disk cap one agent may have: 8 TiB (an ext4 image is one file; ext4 files end at 16 TiB).
    public static let maxDiskBytes: Int64 = 1 << 43

    /// The effective limits: these overrides on top of the server's.
    public func applied(to defaults: ResourceLimits) -> ResourceLimits {
        var limits = defaults
        if let pidsMax { limits.pidsPerAgent = pidsMax }
        if let memoryBytes { limits.memoryPerAgent = memoryBytes }
        if let cpuWeight { limits.cpuWeight = cpuWeight }
        if let maxConcurrentCalls { limits.concurrentCallsPerAgent = maxConcurrentCalls }
        return limits
    }
}
