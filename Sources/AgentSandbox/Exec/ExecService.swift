import Foundation

/// The exec operations (start, list, inspect, wait, stdin, kill, remove), each run through the
/// `CallPipeline` like a tool: the same admission, schema validation (`schemas/exec/`), error mapping,
/// audit and metrics. HTTP routes, MCP's `exec_*` tools and the seed APIs' shapes adapt these.
public struct ExecService: Sendable {
    public let pipeline: CallPipeline
    public let sessions: ExecSessionManager
    /// Exec tokens for the terminal WebSocket (`ExecService+Tokens.swift`): the server's one store.
    public var tokens: ExecTokenStore { sessions.tokens }

    public init(pipeline: CallPipeline, sessions: ExecSessionManager) {
        self.pipeline = pipeline
        self.sessions = sessions
    }

    /// What `start` produced.
    public enum Started: Sendable {
        /// A foreground command ran to its end: `{stdout, stderr, exit_code, success, …}`.
        case finished(Envelope)
        /// A background session, started.
        case background(ExecSession)
        /// A foreground command streamed as it runs: the caller streams `session` and `finish`es the
        /// ticket (audit, metrics) when the stream ends.
        case streaming(ExecSession, CallTicket)
    }

    /// Starts `input` (`schemas/exec/start.json`). `stream`: the caller will stream a foreground command.
    nonisolated(nonsending) public func start(_ agentID: AgentID, input: JSONValue, stream: Bool, entry: CallRequest.Entry) async throws(ToolError) -> Started {
        let request = CallRequest(agentID: agentID, operation: "exec", input: input, schema: "exec/start", entry: entry)
        // A terminal is always a session (`ExecLaunch`): never run to completion here.
        let background = input["background"]?.boolValue == true || input["tty"]?.boolValue == true
        if !background, !stream {
            return .finished(try await pipeline.run(request, admission: .toolCall, bytes: CallPipeline.bytes(of:)) { admitted in
                try await ExecForeground.run(try launch(admitted), in: admitted.workspace)
            })
        }
        let ticket = try await pipeline.begin(request, admission: .session)
        do {
            let launch = try launch(ticket.admitted)
            let session = try await sessions.start(launch, in: ticket.admitted.workspace)
            if launch.background {
                ticket.finish()
                return .background(session)
            }
            return .streaming(session, ticket)
        } catch {
            throw ticket.fail(error)
        }
    }

    private func launch(_ admitted: Admitted) throws -> ExecLaunch {
        let body = try JSONValueDecoder().decode(ExecStartBody.self, from: admitted.input)
        return try ExecLaunch(body, workspace: admitted.workspace, defaultTimeout: pipeline.configuration.limits.defaultTimeout)
    }

    /// The agent's sessions, oldest first.
    public func list(_ agentID: AgentID, entry: CallRequest.Entry) async throws(ToolError) -> JSONValue {
        try await pipeline.run(CallRequest(agentID: agentID, operation: "exec.list", entry: entry), admission: .anyAgent) { _ in
            JSONValue.object(["sessions": .array(try await sessions.list(agent: agentID))])
        }
    }

    /// One session's state.
    public func inspect(_ agentID: AgentID, session id: String, entry: CallRequest.Entry) async throws(ToolError) -> JSONValue {
        try await pipeline.run(CallRequest(agentID: agentID, operation: "exec.inspect", entry: entry), admission: .anyAgent) { _ in
            switch try await sessions.lookup(agent: agentID, id: id) {
            case .live(let session): session.json()
            case .recorded(let record): record.json()
            }
        }
    }

    /// Waits (`schemas/exec/wait.json`) until the session ends or the timeout passes; its state plus the
    /// output not read yet.
    public func wait(_ agentID: AgentID, session id: String, input: JSONValue, entry: CallRequest.Entry) async throws(ToolError) -> JSONValue {
        let request = CallRequest(agentID: agentID, operation: "exec.wait", input: input, schema: "exec/wait", entry: entry)
        return try await pipeline.run(request, admission: .anyAgent) { admitted in
            let timeout = admitted.input["timeout"]?.doubleValue ?? 30
            switch try await sessions.lookup(agent: agentID, id: id) {
            case .live(let session):
                _ = await session.waitUntilEnded(timeout: timeout)
                var fields = session.json().objectValue ?? [:]
                let output = ExecEventFormat.text(session.consumeUnread(limit: .max))
                fields["stdout"] = .string(output.stdout)
                fields["stderr"] = .string(output.stderr)
                return .object(fields)
            case .recorded(let record):
                var fields = record.json().objectValue ?? [:]
                fields["stdout"] = ""
                fields["stderr"] = ""
                return .object(fields)
            }
        }
    }

    /// Sends bytes (`schemas/exec/stdin.json`) to a running session's stdin.
    public func stdin(_ agentID: AgentID, session id: String, input: JSONValue, entry: CallRequest.Entry) async throws(ToolError) -> JSONValue {
        let request = CallRequest(agentID: agentID, operation: "exec.stdin", input: input, schema: "exec/stdin", entry: entry)
        return try await pipeline.run(request, admission: .activeAgent) { admitted in
            let session = try await runningSession(agentID, id)
            let eof = admitted.input["eof"]?.boolValue ?? false
            let bytes = try Self.decode(admitted.input["data"]?.stringValue ?? "", encoding: admitted.input["encoding"]?.stringValue)
            try session.writeStdin(bytes, eof: eof)
            return ["session_id": .string(session.id), "bytes": .number(Double(bytes.count)), "stdin_open": .bool(!eof)]
        }
    }

    /// Signals (`schemas/exec/kill.json`) a running session's process group.
    public func kill(_ agentID: AgentID, session id: String, input: JSONValue, entry: CallRequest.Entry) async throws(ToolError) -> JSONValue {
        let request = CallRequest(agentID: agentID, operation: "exec.kill", input: input, schema: "exec/kill", entry: entry)
        return try await pipeline.run(request, admission: .anyAgent) { admitted in
            let signal = try ExecSignal.parse(admitted.input["signal"])
            let session = try await runningSession(agentID, id)
            try session.signal(signal)
            var fields = session.json().objectValue ?? [:]
            fields["signal_sent"] = .string(ExecSignal.name(of: signal))
            return .object(fields)
        }
    }

    /// Kills the session's tree and forgets it.
    public func remove(_ agentID: AgentID, session id: String, entry: CallRequest.Entry) async throws(ToolError) -> JSONValue {
        try await pipeline.run(CallRequest(agentID: agentID, operation: "exec.remove", entry: entry), admission: .anyAgent) { _ in
            try await sessions.remove(agent: agentID, id: id)
            return ["session_id": .string(id), "state": "deleted"]
        }
    }

    /// A session whose output is still in memory (for streams): 409 for one lost in a restart.
    public func streamableSession(_ agentID: AgentID, session id: String, entry: CallRequest.Entry) async throws(ToolError) -> ExecSession {
        try await pipeline.run(CallRequest(agentID: agentID, operation: "exec.stream", entry: entry), admission: .anyAgent) { _ in
            guard case .live(let session) = try await sessions.lookup(agent: agentID, id: id) else {
                throw ToolError(.sessionNotRunning, "Session \(id.prefix(64)) was lost in a server restart; its output is gone.")
            }
            return session
        }
    }

    func runningSession(_ agentID: AgentID, _ id: String) async throws -> ExecSession {
        guard case .live(let session) = try await sessions.lookup(agent: agentID, id: id), session.isRunning else {
            throw ToolError(.sessionNotRunning, "Session \(id.prefix(64)) is not running; see its state with GET /v1/agents/\(agentID)/exec/\(id.prefix(64)).")
        }
        return session
    }

    /// Stdin bytes as sent: text, or base64 when `encoding` says so.
    public static func decode(_ data: String, encoding: String?) throws(ToolError) -> [UInt8] {
        switch encoding?.lowercased() {
        case nil, "utf-8", "utf8", "text": return Array(data.utf8)
        case "base64":
            guard let decoded = Data(base64Encoded: data) else { throw ToolError.invalidField("data", "is not valid base64.") }
            return Array(decoded)
        default: throw ToolError.invalidField("encoding", "must be \"utf-8\" or \"base64\".")
        }
    }
}

/// A foreground exec without streaming: the bash tool's machinery (run to completion, capped output).
enum ExecForeground {
    static func run(_ launch: ExecLaunch, in workspace: Workspace) async throws -> Envelope {
        let result = try await workspace.launcher.run(launch.launchRequest(in: workspace))
        var envelope = Envelope(stdout: result.stdout.render(), stderr: result.stderr.render(), exitCode: result.exitCode)
        envelope.extras["success"] = .bool(result.exitCode == 0 && !result.timedOut)
        envelope.extras["duration_ms"] = .number((result.duration * 1000).rounded())
        envelope.extras["truncated"] = .bool(result.stdout.truncated || result.stderr.truncated)
        if result.timedOut {
            throw ToolError(.timeout, "The command did not finish within \(Int(launch.timeout ?? 0)) s and was killed with everything it started. Raise `timeout`, or start it with \"background\": true.", envelope: envelope)
        }
        return envelope
    }
}
