import Foundation

extension ExecSession {
    /// The row that records this session in SQLite.
    var record: ExecSessionRecord {
        let exit = exit
        return ExecSessionRecord(
            id: id, agentId: agent.rawValue, command: command, cwd: cwd, pid: Int64(pid), background: background,
            state: stateName.rawValue, exitCode: exit.map { Int64($0.exitCode) }, signal: exit?.signal.map(Int64.init),
            timedOut: exit?.timedOut ?? false, startedAt: startedAt, finishedAt: finishedAt)
    }

    /// The session as the API shows it (list, state, kill).
    public func json() -> JSONValue {
        let counters = counters
        var fields = record.json().objectValue ?? [:]
        fields["stdin_open"] = .bool(stdinOpen)
        fields["stdout_bytes"] = .number(Double(counters.stdout))
        fields["stderr_bytes"] = .number(Double(counters.stderr))
        fields["dropped_bytes"] = .number(Double(counters.stdoutDropped + counters.stderrDropped))
        fields["last_event_id"] = .number(Double(counters.lastEventID))
        if let terminal {
            let size = terminal.size
            fields["tty"] = true
            fields["cols"] = .number(Double(size.cols))
            fields["rows"] = .number(Double(size.rows))
        }
        fields["duration_ms"] = .number(((finishedAt ?? Date()).timeIntervalSince(startedAt) * 1000).rounded())
        return .object(fields)
    }

    /// Waits (without blocking a thread) until the session ends or `timeout` seconds pass; true if it ended.
    public func waitUntilEnded(timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let seen = changes.generation
            if !isRunning { return true }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 || Task.isCancelled { return false }
            await changes.wait(past: seen, timeout: .milliseconds(Int64(min(remaining, 30) * 1000) + 1))
        }
    }
}

extension ExecSessionRecord {
    /// The recorded fields in the API's shape (a `lost` session has nothing more).
    public func json() -> JSONValue {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return .object([
            "session_id": .string(id),
            "agent_id": .string(agentId),
            "command": .string(command),
            "cwd": .string(cwd),
            "pid": .number(Double(pid)),
            "background": .bool(background),
            "state": .string(state),
            "running": .bool(state == ExecSessionState.running.rawValue),
            "exit_code": exitCode.map { .number(Double($0)) } ?? .null,
            "signal": signal.map { .string(ExecSignal.name(of: Int32($0))) } ?? .null,
            "timed_out": .bool(timedOut),
            "started_at": .string(formatter.string(from: startedAt)),
            "finished_at": finishedAt.map { .string(formatter.string(from: $0)) } ?? .null,
        ])
    }
}
