import Foundation
import GRDB

/// One exec session as recorded in SQLite, so that a restarted server can list the sessions its
/// predecessor was running as `lost` instead of letting them vanish. Output is never stored.
public struct ExecSessionRecord: SnakeCaseRecord, Sendable, Equatable {
    public static let databaseTableName = "exec_sessions"

    public var id: String
    public var agentId: String
    public var command: String
    public var cwd: String
    public var pid: Int64
    public var background: Bool
    /// `running`, `exited`, `killed` or `lost` (see `ExecSessionState`).
    public var state: String
    public var exitCode: Int64?
    public var signal: Int64?
    public var timedOut: Bool
    public var startedAt: Date
    public var finishedAt: Date?
}

extension SQLiteStore {
    /// "v3: exec_sessions" — appended after the other migrations by `Store.migrator`.
    static func registerExecSessionsMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3: exec_sessions") { db in
            try db.create(table: "exec_sessions") { table in
                table.primaryKey("id", .text)
                table.column("agent_id", .text).notNull().indexed()
                table.column("command", .text).notNull()
                table.column("cwd", .text).notNull()
                table.column("pid", .integer).notNull()
                table.column("background", .boolean).notNull()
                table.column("state", .text).notNull()
                table.column("exit_code", .integer)
                table.column("signal", .integer)
                table.column("timed_out", .boolean).notNull().defaults(to: false)
                table.column("started_at", .datetime).notNull()
                table.column("finished_at", .datetime)
            }
        }
    }

    public func insertExecSession(_ record: ExecSessionRecord) async throws {
        try await pool.write { db in try record.insert(db) }
    }

    /// Records how a session ended (no-op when the row is gone, e.g. after a DELETE).
    public func finishExecSession(_ record: ExecSessionRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE exec_sessions SET state = ?, exit_code = ?, signal = ?, timed_out = ?, finished_at = ? WHERE id = ?",
                arguments: [record.state, record.exitCode, record.signal, record.timedOut, record.finishedAt, record.id])
        }
    }

    /// At start-up: sessions a previous server process was running are `lost` (their processes were swept).
    @discardableResult
    public func markRunningExecSessionsLost(at date: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "UPDATE exec_sessions SET state = 'lost', finished_at = ? WHERE state = 'running'", arguments: [date])
            return db.changesCount
        }
    }

    /// The agent's recorded sessions, oldest first.
    public func execSessions(agent: String) async throws -> [ExecSessionRecord] {
        try await pool.read { db in
            try ExecSessionRecord.filter(Column("agent_id") == agent).order(Column("started_at"), Column("id")).fetchAll(db)
        }
    }

    public func execSession(id: String) async throws -> ExecSessionRecord? {
        try await pool.read { db in try ExecSessionRecord.fetchOne(db, key: id) }
    }

    public func deleteExecSessions(ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await pool.write { db in _ = try ExecSessionRecord.deleteAll(db, keys: ids) }
    }

    public func deleteExecSessions(agent: String) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM exec_sessions WHERE agent_id = ?", arguments: [agent]) }
    }

    /// Forgets finished (or lost) sessions that ended before `date`.
    public func deleteExecSessions(finishedBefore date: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM exec_sessions WHERE state != 'running' AND finished_at < ?", arguments: [date])
        }
    }
}
