import AgentSandbox

/// Translations between the seed APIs' bodies and exec's (`schemas/exec/start.json`), both ways. Only
/// names and shapes change here: validation, admission, the run and errors stay with `ExecService`.
enum SeedShape {
    /// `POST /sandboxes/{id}/exec` `{command}`: exec's own field names, always in the foreground.
    static func execInput(_ body: JSONValue) throws(ToolError) -> JSONValue {
        var fields = try object(body, "(body)")
        fields["background"] = nil
        fields["keep_stdin_open"] = nil
        return .object(fields)
    }

    /// `POST /sandboxes/{id}/commands` `{cmd, background?, cwd?, envs?|env?, timeout? (0 = none), user?, stdin?}`.
    static func commandInput(_ body: JSONValue) throws(ToolError) -> JSONValue {
        var fields = try object(body, "(body)")
        rename(&fields, "cmd", to: "command")
        rename(&fields, "envs", to: "env")
        rename(&fields, "working_dir", to: "cwd")
        return .object(try options(fields))
    }

    /// `POST /api/v1/sandboxes/{id}/exec` `{command, options: {timeout, stdin, background, env, cwd}}`.
    static func apiInput(_ body: JSONValue) throws(ToolError) -> JSONValue {
        var fields = try object(body, "(body)")
        if let nested = fields.removeValue(forKey: "options"), nested != .null {
            for (key, value) in try object(nested, "options") { fields[key] = value }
        }
        rename(&fields, "envs", to: "env")
        return .object(try options(fields))
    }

    /// Their `timeout` (seconds, 0 = none) and `stdin` (text to send, or `true`: keep it open for
    /// `…/stdin`) in exec's terms.
    private static func options(_ input: [String: JSONValue]) throws(ToolError) -> [String: JSONValue] {
        var fields = input
        let background = fields["background"]?.boolValue == true
        if fields["timeout"]?.doubleValue == 0, !background { fields["timeout"] = .number(604_800) }
        switch fields["stdin"] {
        case .bool(let open)?:
            fields["stdin"] = nil
            if background { fields["keep_stdin_open"] = .bool(open) }
        case .string?:
            if background { fields["keep_stdin_open"] = false }
        default: break
        }
        return fields
    }

    // MARK: Results

    /// A foreground result: exec's envelope (or a timeout's partial one) as the seed shape's fields.
    struct Finished {
        var stdout: String
        var stderr: String
        var exitCode: Int
        /// Set when the command timed out: its sentence and code travel beside the partial output.
        var failure: ToolError?

        init(_ envelope: Envelope, failure: ToolError? = nil) {
            stdout = envelope.stdout ?? ""
            stderr = envelope.stderr ?? ""
            exitCode = envelope.exitCode.map { Int($0) } ?? -1
            self.failure = failure
        }

        /// `{exitCode, stdout, stderr}` (`POST /sandboxes/{id}/exec`).
        var camelCase: JSONValue { with(["exitCode": .number(Double(exitCode)), "stdout": .string(stdout), "stderr": .string(stderr)]) }
        /// `{stdout, stderr, exit_code}` (`/commands`).
        var snakeCase: JSONValue { with(["stdout": .string(stdout), "stderr": .string(stderr), "exit_code": .number(Double(exitCode))]) }
        /// `{stdout, stderr, exitCode, success}` (`/api/v1/…/exec`).
        var api: JSONValue {
            with(["stdout": .string(stdout), "stderr": .string(stderr), "exitCode": .number(Double(exitCode)), "success": .bool(exitCode == 0 && failure == nil)])
        }

        private func with(_ fields: [String: JSONValue]) -> JSONValue {
            guard let failure else { return .object(fields) }
            var all = fields
            all["error"] = .string(failure.message)
            all["errorCode"] = .string(failure.code.rawValue)
            return .object(all)
        }
    }

    /// What a seed start produced.
    enum Outcome {
        case finished(Finished)
        case background(ExecSession)
        case streaming(ExecSession, CallTicket)
    }

    /// Starts through `ExecService`; a foreground timeout (partial output, exit code 124) is a result
    /// here, as it is for a shell: the command ran and was stopped. Other failures are thrown.
    static func start(_ exec: ExecService, _ agentID: AgentID, input: JSONValue, stream: Bool) async throws(ToolError) -> Outcome {
        do throws(ToolError) {
            switch try await exec.start(agentID, input: input, stream: stream, entry: .seed) {
            case .finished(let envelope): return .finished(Finished(envelope))
            case .background(let session): return .background(session)
            case .streaming(let session, let ticket): return .streaming(session, ticket)
            }
        } catch where error.code == .timeout && error.envelope != nil {
            return .finished(Finished(error.envelope!, failure: error))
        }
    }

    // MARK: Helpers

    private static func object(_ value: JSONValue, _ field: String) throws(ToolError) -> [String: JSONValue] {
        guard let fields = value.objectValue else { throw ToolError.invalidField(field, "must be a JSON object.") }
        return fields
    }

    private static func rename(_ fields: inout [String: JSONValue], _ alias: String, to canonical: String) {
        guard let value = fields.removeValue(forKey: alias) else { return }
        if fields[canonical] == nil || fields[canonical] == .null { fields[canonical] = value }
    }
}
