import Foundation
import GRDB

/// A record whose Swift properties are its columns in snake_case (`createdAt` ↔ `created_at`), by GRDB's
/// own column coding instead of hand-written `CodingKeys`. Dates keep GRDB's default storage, the text
/// "yyyy-MM-dd HH:mm:ss.SSS" in UTC, as every existing database holds them.
public protocol SnakeCaseRecord: Codable, FetchableRecord, PersistableRecord {}

extension SnakeCaseRecord {
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}

/// One agent row: its identity (uid = gid) and lifecycle state.
///
/// Hand-written `CodingKeys` on purpose: agents are read in bulk (start-up, `GET /v1/agents`), and
/// GRDB's snake_case column decoding converts every column name of every row — `scripts/bench-coding`
/// measured 10,000 rows at 139 ms with these keys against 696 ms with the strategy (debug build).
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
    /// The cluster node that owns the agent (`PostgresStore`); nil in the single-box SQLite store, which
    /// has no such column (not in `CodingKeys`).
    public var nodeId: String? = nil

    enum CodingKeys: String, CodingKey {
        case id, uid, state, settings
        case createdAt = "created_at"
        case lastUsedAt = "last_used_at"
    }
}

/// A hashed API key. The key itself is never stored.
public struct APIKeyRecord: SnakeCaseRecord, Sendable {
    public static let databaseTableName = "api_keys"
    public var id: Int64?
    public var keyHash: String
    public var name: String
    public var createdAt: Date
}

/// One tool call, for the audit log.
public struct AuditEntry: SnakeCaseRecord, Sendable {
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
}
