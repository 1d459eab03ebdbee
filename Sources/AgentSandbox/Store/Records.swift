import Foundation
import GRDB

/// One agent row: its identity (uid = gid) and lifecycle state.
public struct AgentRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "agents"

    public enum State: String, Codable, Sendable { case active, suspended, deleted }

    public var id: String
    /// The agent's uid and gid; nil once deleted (the uid is free again).
    public var uid: Int64?
    public var state: State
    public var createdAt: Date
    public var lastUsedAt: Date?
    /// JSON of `AgentSettings` (per-agent network policy and limits).
    public var settings: String?

    enum CodingKeys: String, CodingKey {
        case id, uid, state, settings
        case createdAt = "created_at"
        case lastUsedAt = "last_used_at"
    }
}

/// A hashed API key. The key itself is never stored.
public struct APIKeyRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "api_keys"
    public var id: Int64?
    public var keyHash: String
    public var name: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name
        case keyHash = "key_hash"
        case createdAt = "created_at"
    }
}

/// One tool call, for the audit log.
public struct AuditEntry: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "audit_log"
    public var id: Int64?
    public var agentId: String
    public var tool: String
    public var startedAt: Date
    public var durationMs: Double
    public var status: String
    public var bytes: Int64

    public init(agentId: String, tool: String, startedAt: Date, durationMs: Double, status: String, bytes: Int64) {
        self.agentId = agentId
        self.tool = tool
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.status = status
        self.bytes = bytes
    }

    enum CodingKeys: String, CodingKey {
        case id, tool, status, bytes
        case agentId = "agent_id"
        case startedAt = "started_at"
        case durationMs = "duration_ms"
    }
}
