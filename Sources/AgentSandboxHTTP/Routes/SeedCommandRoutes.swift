import AgentSandbox
import Hummingbird

/// The seed API's commands (`/sandboxes/{id}/commands`), adapters onto `ExecService`:
/// - `POST …/commands` `{cmd, background?, cwd?, envs?|env?, timeout? (0 = none), user?, stdin?}` →
///   `{stdout, stderr, exit_code}`, or (background) `{pid, session_id}`;
/// - `POST …/commands/{pid}/wait` → `{stdout, stderr, exit_code}` once it ends; `…/kill` `{signal?}`
///   (SIGKILL by default); `…/stdin` `{data}`; `GET …/{pid}/stream` (SSE, as exec's session stream).
///
/// `{pid}` is the command's process id as `POST …/commands` answered it (the newest session of the
/// agent with that pid), or its `session_id` (`sess_…`), which never repeats. 409 while the agent is
/// suspended, 410 once it is deleted.
struct SeedCommandRoutes: Sendable {
    let exec: ExecService
    let bodyLimit: Int
    static let path = "/sandboxes/:agent_id/commands/:pid"

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/sandboxes/:agent_id/commands") { request, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            let input = try SeedShape.commandInput(try await request.jsonBody(limit: bodyLimit))
            switch try await SeedShape.start(exec, id, input: input, stream: false) {
            case .finished(let result): return Response.json(result.snakeCase)
            case .background(let session), .streaming(let session, _):
                return Response.json(JSONValue.object(["pid": .number(Double(session.pid)), "session_id": .string(session.id)]))
            }
        }
        router.post(RouterPath(Self.path + "/wait")) { _, context in
            let (agent, session) = try await resolve(context)
            return Response.json(try await waitUntilEnded(agent, session))
        }
        router.post(RouterPath(Self.path + "/kill")) { request, context in
            let (agent, session) = try await resolve(context)
            var input = try await request.jsonBody(limit: 64 << 10, emptyIsObject: true).objectValue ?? [:]
            if input["signal"] == nil || input["signal"] == .null { input["signal"] = "SIGKILL" }
            let state = try await exec.kill(agent, session: session, input: .object(input), entry: .seed)
            return Response.json(JSONValue.object(["killed": true, "pid": state["pid"] ?? .null, "session_id": .string(session), "signal": state["signal_sent"] ?? .null]))
        }
        router.post(RouterPath(Self.path + "/stdin")) { request, context in
            let (agent, session) = try await resolve(context)
            let input = try await request.jsonBody(limit: bodyLimit)
            return Response.json(try await exec.stdin(agent, session: session, input: input, entry: .seed))
        }
        router.get(RouterPath(Self.path + "/stream")) { request, context in
            let (agent, id) = try await resolve(context)
            let resume = try ExecEventStream.resumePoint(request)
            let session = try await exec.streamableSession(agent, session: id, entry: .seed)
            return ExecEventStream.response(session, from: session.cursor(after: resume), encoding: .text)
        }
    }

    /// `{stdout, stderr, exit_code}` of the session once it ended (exec's `/wait`, repeated while it runs).
    private func waitUntilEnded(_ agent: AgentID, _ session: String) async throws -> JSONValue {
        var (stdout, stderr) = ("", "")
        while true {
            let state = try await exec.wait(agent, session: session, input: ["timeout": 3600], entry: .seed)
            stdout += state["stdout"]?.stringValue ?? ""
            stderr += state["stderr"]?.stringValue ?? ""
            if state["running"]?.boolValue != true {
                return ["stdout": .string(stdout), "stderr": .string(stderr), "exit_code": state["exit_code"] ?? .null]
            }
        }
    }

    /// The agent (409 when suspended, 404/410 as the registry decides) and the session `{pid}` names.
    private func resolve(_ context: some RequestContext) async throws -> (AgentID, String) {
        let agent = try AgentID(context.parameters.get("agent_id") ?? "")
        if try await exec.pipeline.agents.agent(agent).state == .suspended { throw AgentRegistry.suspendedError(agent) }
        let handle = context.parameters.get("pid") ?? ""
        guard let pid = Int(handle) else { return (agent, handle) }
        let sessions = try await exec.list(agent, entry: .seed)["sessions"]?.arrayValue ?? []
        guard let match = sessions.last(where: { $0["pid"]?.doubleValue == Double(pid) }), let id = match["session_id"]?.stringValue else {
            throw ToolError(.sessionNotFound, "No command with pid \(pid) for sandbox \(agent). Use the pid (or session_id) that POST /sandboxes/\(agent)/commands answered.")
        }
        return (agent, id)
    }
}
