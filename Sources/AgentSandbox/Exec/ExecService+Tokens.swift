import Foundation
import SandboxKernel

extension ExecService {
    /// Mints an exec token (`schemas/exec/token.json`) for `agentID`: `{token, expires_at, url,
    /// terminal_url, session_id}` — `url` is the terminal WebSocket with the token in its query,
    /// `terminal_url` the web terminal page with it in the fragment (never sent to a server).
    public func mintToken(_ agentID: AgentID, input: JSONValue, entry: CallRequest.Entry) async throws(ToolError) -> JSONValue {
        let request = CallRequest(agentID: agentID, operation: "exec.token", input: input, schema: "exec/token", entry: entry)
        return try await pipeline.run(request, admission: .session) { admitted in
            let input = admitted.input
            let ttl = input["ttl"]?.doubleValue ?? ExecTokenStore.defaultTTL
            guard ttl >= 1, ttl <= ExecTokenStore.maximumTTL else {
                throw ToolError.invalidField("ttl", "must be between 1 and \(Int(ExecTokenStore.maximumTTL)) seconds.")
            }
            let sessionID = input["session_id"]?.stringValue
            if let sessionID { _ = try await runningSession(agentID, sessionID) }
            let tty = input["tty"]?.boolValue ?? true
            let command = input["command"]?.stringValue
            if let command, command.isEmpty || command.utf8.contains(0) { throw ToolError.invalidField("command", "must be a non-empty command line without NUL bytes.") }
            if sessionID == nil, !tty, command == nil { throw ToolError.invalidField("command", "is required when `tty` is false (only a terminal defaults to the login shell).") }
            let size = try TerminalSize(
                cols: Int(input["cols"]?.doubleValue ?? Double(PseudoTerminal.defaultSize.cols)),
                rows: Int(input["rows"]?.doubleValue ?? Double(PseudoTerminal.defaultSize.rows)))
            let grant = ExecTokenStore.Grant(
                agent: agentID, sessionID: sessionID, tty: tty, command: command, size: size, expiresAt: Date().addingTimeInterval(ttl))
            return tokenReply(tokens.mint(grant), grant: grant)
        }
    }

    /// Opens the connection `token` authorises on `GET /v1/agents/{agentID}/terminal` (`session`: the
    /// `session_id` the URL names, if any): spends the token, then attaches to its session or starts a new
    /// one. A failure after the token was spent is remembered for the HTTP reply (see `terminalRefusal`).
    public func openTerminal(_ agentID: AgentID, token: String, session requested: String?) async throws(ToolError) -> ExecSession {
        let grant = try tokens.redeem(token, agent: agentID, session: requested)
        do throws(ToolError) {
            if let id = grant.sessionID { return try await streamableSession(agentID, session: id, entry: .terminal) }
            var input: [String: JSONValue] = ["tty": .bool(grant.tty)]
            if let command = grant.command { input["command"] = .string(command) }
            if grant.tty {
                input["cols"] = .number(Double(grant.size.cols))
                input["rows"] = .number(Double(grant.size.rows))
            } else {
                input["background"] = true
                input["keep_stdin_open"] = true
            }
            guard case .background(let session) = try await start(agentID, input: .object(input), stream: false, entry: .terminal) else {
                throw ToolError(.internalError, "A terminal session did not start as a session.")
            }
            return session
        } catch {
            tokens.recordRefusal(error, for: token)
            throw error
        }
    }

    /// Why `token` opened no WebSocket on `GET /v1/agents/{agentID}/terminal`, for the plain HTTP reply.
    public func terminalRefusal(_ agentID: AgentID, token: String?, session: String?) -> ToolError {
        guard let token, !token.isEmpty else {
            return ToolError(.unauthorized, "The terminal needs an exec token: mint one with POST /v1/agents/\(agentID)/exec-token and pass it as ?token= or in Sec-WebSocket-Protocol (\"token.<token>\").")
        }
        return tokens.refusal(for: token, agent: agentID, session: session)
            ?? ToolError(.invalidRequest, "This route speaks WebSocket: send a GET with `Connection: Upgrade` and `Upgrade: websocket` (the token was not spent).")
    }

    /// A token for re-attaching to `session` (sent over the terminal WebSocket it was opened on, so a
    /// dropped connection can come back without the API key): the longest ttl.
    public func reconnectToken(for session: ExecSession) -> JSONValue {
        let size = session.terminal?.size ?? PseudoTerminal.defaultSize
        let grant = ExecTokenStore.Grant(
            agent: session.agent, sessionID: session.id, tty: session.terminal != nil, command: nil,
            size: (try? TerminalSize(cols: size.cols, rows: size.rows)) ?? TerminalSize.standard,
            expiresAt: Date().addingTimeInterval(ExecTokenStore.maximumTTL))
        return tokenReply(tokens.mint(grant), grant: grant)
    }

    private func tokenReply(_ token: String, grant: ExecTokenStore.Grant) -> JSONValue {
        let base = pipeline.configuration.shareBaseURL
        let socketBase = base.hasPrefix("https://") ? "wss://" + base.dropFirst(8) : "ws://" + base.dropFirst(base.hasPrefix("http://") ? 7 : 0)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return .object([
            "token": .string(token),
            "expires_at": .string(formatter.string(from: grant.expiresAt)),
            "url": .string("\(socketBase)/v1/agents/\(grant.agent)/terminal?token=\(token)"),
            "terminal_url": .string("\(base)/terminal#token=\(token)&agent=\(grant.agent)"),
            "agent_id": .string(grant.agent.rawValue),
            "session_id": grant.sessionID.map(JSONValue.string) ?? .null,
        ])
    }
}
