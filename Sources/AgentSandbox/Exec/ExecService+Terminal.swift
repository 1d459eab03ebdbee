extension ExecService {
    /// Sets a running `tty` session's window (`schemas/exec/resize.json`): TIOCSWINSZ on the master,
    /// SIGWINCH to the terminal's foreground process group. 400 for a session without a terminal.
    public func resize(_ agentID: AgentID, session id: String, input: JSONValue, entry: CallRequest.Entry) async throws(ToolError) -> JSONValue {
        let request = CallRequest(agentID: agentID, operation: "exec.resize", input: input, schema: "exec/resize", entry: entry)
        return try await pipeline.run(request, admission: .anyAgent) { admitted in
            let size = try TerminalSize(cols: Int(admitted.input["cols"]?.doubleValue ?? 0), rows: Int(admitted.input["rows"]?.doubleValue ?? 0))
            let session = try await runningSession(agentID, id)
            try Self.resize(session, to: size)
            return session.json()
        }
    }

    /// Resizes `session`'s terminal (HTTP route and WebSocket message alike).
    public static func resize(_ session: ExecSession, to size: TerminalSize) throws(ToolError) {
        guard let terminal = session.terminal else {
            throw ToolError(.invalidRequest, "Session \(session.id) has no terminal to resize: only a session started with \"tty\": true has one.")
        }
        guard terminal.resize(cols: size.cols, rows: size.rows) else {
            throw ToolError(.sessionNotRunning, "Session \(session.id) has ended; its terminal is gone.")
        }
    }

    /// The size in a resize message (`{"cols": N, "rows": N}`), validated.
    public static func terminalSize(in message: JSONValue) throws(ToolError) -> TerminalSize {
        guard let cols = message["cols"]?.doubleValue, let rows = message["rows"]?.doubleValue,
            let columns = Int(exactly: cols), let lines = Int(exactly: rows)
        else { throw ToolError(.invalidRequest, "A resize needs integer `cols` and `rows`, e.g. {\"type\":\"resize\",\"cols\":120,\"rows\":40}.") }
        return try TerminalSize(cols: columns, rows: lines)
    }
}
