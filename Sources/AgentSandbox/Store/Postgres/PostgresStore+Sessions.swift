import Foundation
import PostgresNIO

/// Exec-session records in PostgreSQL. The start-up and retention sweeps touch only this node's agents.
extension PostgresStore {
    static let sessionColumns = "id, agent_id, command, cwd, pid, background, state, exit_code, signal, timed_out, started_at, finished_at"
    typealias SessionRow = (String, String, String, String, Int64, Bool, String, Int64?, Int64?, Bool, Date, Date?)

    static func sessionRecord(_ row: SessionRow) -> ExecSessionRecord {
        ExecSessionRecord(id: row.0, agentId: row.1, command: row.2, cwd: row.3, pid: row.4, background: row.5, state: row.6,
                          exitCode: row.7, signal: row.8, timedOut: row.9, startedAt: row.10, finishedAt: row.11)
    }

    public func insertExecSession(_ record: ExecSessionRecord) async throws {
        try await execute("""
            INSERT INTO exec_sessions (id, agent_id, command, cwd, pid, background, state, exit_code, signal, timed_out, started_at, finished_at)
            VALUES (\(record.id), \(record.agentId), \(record.command), \(record.cwd), \(record.pid), \(record.background), \(record.state),
                    \(record.exitCode), \(record.signal), \(record.timedOut), \(record.startedAt), \(record.finishedAt))
            """)
    }

    public func finishExecSession(_ record: ExecSessionRecord) async throws {
        try await execute("""
            UPDATE exec_sessions SET state = \(record.state), exit_code = \(record.exitCode), signal = \(record.signal),
                timed_out = \(record.timedOut), finished_at = \(record.finishedAt) WHERE id = \(record.id)
            """)
    }

    @discardableResult
    public func markRunningExecSessionsLost(at date: Date) async throws -> Int {
        try await values("""
            UPDATE exec_sessions SET state = 'lost', finished_at = \(date)
            WHERE state = 'running' AND agent_id IN (SELECT id FROM agents WHERE node_id = \(node))
            RETURNING 1
            """, as: Int32.self).count
    }

    public func execSessions(agent: String) async throws -> [ExecSessionRecord] {
        try await rows("SELECT \(unescaped: Self.sessionColumns) FROM exec_sessions WHERE agent_id = \(agent) ORDER BY started_at, id",
                       as: SessionRow.self).map(Self.sessionRecord)
    }

    public func execSession(id: String) async throws -> ExecSessionRecord? {
        try await rows("SELECT \(unescaped: Self.sessionColumns) FROM exec_sessions WHERE id = \(id)", as: SessionRow.self).first.map(Self.sessionRecord)
    }

    public func deleteExecSessions(ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await execute("DELETE FROM exec_sessions WHERE id = ANY(\(ids)::text[])")
    }

    public func deleteExecSessions(agent: String) async throws {
        try await execute("DELETE FROM exec_sessions WHERE agent_id = \(agent)")
    }

    public func deleteExecSessions(finishedBefore date: Date) async throws {
        try await execute("""
            DELETE FROM exec_sessions WHERE state != 'running' AND finished_at < \(date)
                AND agent_id IN (SELECT id FROM agents WHERE node_id = \(node))
            """)
    }
}
