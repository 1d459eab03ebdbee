import Foundation
import SandboxKernel

/// A live agent as the rest of the server sees it: id, identity, state and workspace directory.
public struct Agent: Sendable, Equatable {
    public let id: AgentID
    public let identity: Identity
    public var state: AgentRecord.State
    public let createdAt: Date
    public var lastUsedAt: Date?
    /// Absolute path of the workspace directory on the host.
    public let workspacePath: String
    /// Per-agent overrides (network policy, limits).
    public var settings = AgentSettings()
    /// The server's default egress policy, which applies when `settings.egress` is nil.
    public var egressDefault = EgressPolicy()

    /// The egress policy in force: the agent's own, else the server's default.
    public var egress: EgressPolicy { settings.egress ?? egressDefault }

    /// The JSON served by the agents API.
    public func json(storage: AgentStorage? = nil) -> JSONValue {
        let formatter = ISO8601DateFormatter()
        var fields: [String: JSONValue] = [
            "agent_id": .string(id.rawValue),
            "uid": .number(Double(identity.uid)),
            "gid": .number(Double(identity.gid)),
            "state": .string(state.rawValue),
            "workspace": .string(workspacePath),
            "created_at": .string(formatter.string(from: createdAt)),
            "last_used_at": lastUsedAt.map { .string(formatter.string(from: $0)) } ?? .null,
        ]
        if let storage { fields.merge(storage.fields) { _, new in new } }
        if let network = settings.network { fields["network"] = .string(network.rawValue) }
        fields["cwd"] = .string(settings.cwd ?? "")
        fields["egress"] = egress.json
        var limits: [String: JSONValue] = [:]
        if let value = settings.pidsMax { limits["pids_max"] = .number(Double(value)) }
        if let value = settings.memoryBytes { limits["memory_bytes"] = .number(Double(value)) }
        if let value = settings.cpuWeight { limits["cpu_weight"] = .number(Double(value)) }
        if let value = settings.maxConcurrentCalls { limits["max_concurrent_calls"] = .number(Double(value)) }
        if let value = settings.diskBytes { limits["disk_bytes"] = .number(Double(value)) }
        fields["disk_limit_bytes"] = settings.diskBytes.map { .number(Double($0)) } ?? .null
        if !limits.isEmpty { fields["limits"] = .object(limits) }
        return .object(fields)
    }
}
