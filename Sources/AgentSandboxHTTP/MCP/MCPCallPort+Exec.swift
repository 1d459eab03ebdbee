import AgentSandbox

/// The session tools, as adapters onto `ExecService` (schemas in `schemas/mcp/`):
/// - `exec_start` `{command, cwd?, env?, timeout?, stdin?, keep_stdin_open?, wait=0}`: a background
///   exec session; answers after `wait` seconds (or its end) with its id, pid, state and output so far;
/// - `exec_output` `{session_id, wait=0}`: the output since the last read, the state, the exit code;
/// - `exec_kill` `{session_id, signal?}`: signals the session's whole tree.
///
/// The arguments are first normalised against the tool's own schema (aliases, defaults; a bad one is
/// refused through `CallPipeline.reject`, so it is audited), then handed to the exec operation, whose
/// own schema the pipeline checks as for `POST …/exec`.
extension MCPCallPort {
    /// Output one call returns at most (the rest stays for the next `exec_output`).
    static let outputLimit = 1 << 20

    func execStart(_ agent: AgentID, _ input: JSONValue) async throws(ToolError) -> Envelope {
        var fields = try normalized("exec_start", agent, input).objectValue ?? [:]
        let wait = fields.removeValue(forKey: "wait")?.doubleValue ?? 0
        fields["background"] = true
        guard case .background(let session) = try await exec.start(agent, input: .object(fields), stream: false, entry: .mcp) else {
            throw ToolError(.internalError, "exec_start did not start a background session.")
        }
        if wait > 0 { _ = await session.waitUntilEnded(timeout: wait) }
        let output = ExecEventFormat.text(session.consumeUnread(limit: Self.outputLimit))
        var state = session.json().objectValue ?? [:]
        state["stdout"] = .string(output.stdout)
        state["stderr"] = .string(output.stderr)
        return Self.envelope(state)
    }

    func execOutput(_ agent: AgentID, _ input: JSONValue) async throws(ToolError) -> Envelope {
        let fields = try normalized("exec_output", agent, input)
        let session = fields["session_id"]?.stringValue ?? ""
        let state = try await exec.wait(agent, session: session, input: ["timeout": fields["wait"] ?? 0], entry: .mcp)
        return Self.envelope(state.objectValue ?? [:])
    }

    func execKill(_ agent: AgentID, _ input: JSONValue) async throws(ToolError) -> Envelope {
        let fields = try normalized("exec_kill", agent, input)
        let session = fields["session_id"]?.stringValue ?? ""
        let signal: JSONValue = fields["signal"].map { ["signal": $0] } ?? [:]
        return Self.envelope(try await exec.kill(agent, session: session, input: signal, entry: .mcp).objectValue ?? [:])
    }

    /// `input` checked against `schemas/mcp/<tool>.json`: aliases renamed, defaults filled in.
    private func normalized(_ tool: String, _ agent: AgentID, _ input: JSONValue) throws(ToolError) -> JSONValue {
        let request = CallRequest(agentID: agent, operation: tool, input: input, entry: .mcp)
        guard let validator = pipeline.schemas.validator(for: "mcp/" + tool) else {
            try pipeline.reject(request, ToolError(.internalError, "No schema is published for '\(tool)'."))
        }
        do {
            return try validator.validate(input)
        } catch {
            try pipeline.reject(request, error)
        }
    }

    /// A session's state as an envelope: `stdout`, `stderr`, `exit_code` in their places, the rest
    /// (`session_id`, `state`, `pid`, `signal_sent` …) as extras.
    static func envelope(_ state: [String: JSONValue]) -> Envelope {
        var envelope = Envelope(
            stdout: state["stdout"]?.stringValue, stderr: state["stderr"]?.stringValue,
            exitCode: state["exit_code"]?.doubleValue.map { Int32($0) })
        for (key, value) in state where !Envelope.coreKeys.contains(key) { envelope.extras[key] = value }
        return envelope
    }
}
