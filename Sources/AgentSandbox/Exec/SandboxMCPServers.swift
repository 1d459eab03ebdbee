import Foundation
import Synchronization

/// The stdio MCP servers agents run through xpander's `mcp_list_tools` / `mcp_call_tool`, each started
/// inside the agent's sandbox as a background exec session (its uid, its limits; listed with its other
/// sessions) and kept warm per (agent, name, command, env, directory), so a list followed by calls starts
/// it once. A server stops after `idleSeconds` without use, when the agent is suspended or deleted, and
/// when it fails (exits, times out, speaks something other than JSON-RPC). At most `perAgent` warm
/// servers per agent: starting one more stops the least recently used.
///
/// Both operations run through the `CallPipeline` (admission, `schemas/xpander/`, audit, metrics).
public final class SandboxMCPServers: Sendable {
    struct Key: Hashable, Sendable {
        let agent: AgentID
        let name: String
        let command: String
        let environment: [String: String]
        let directory: String
    }

    final class Entry: Sendable {
        let key: Key
        let client: SandboxMCPClient
        let lastUsed = Mutex(ContinuousClock.now)
        /// Calls in flight on this server (an idle stop waits for them).
        let busy = Mutex(0)
        init(key: Key, client: SandboxMCPClient) {
            self.key = key
            self.client = client
        }
    }

    let pipeline: CallPipeline
    let sessions: ExecSessionManager
    let idleSeconds: Double
    let perAgent: Int
    private let entries = Mutex<[Key: Entry]>([:])
    /// One start at a time per key: concurrent first calls share it.
    private let starting = Mutex<[Key: Task<Entry, any Error>]>([:])

    public init(pipeline: CallPipeline, sessions: ExecSessionManager, idleSeconds: Double = 300, perAgent: Int = 4) {
        self.pipeline = pipeline
        self.sessions = sessions
        self.idleSeconds = idleSeconds
        self.perAgent = perAgent
        pipeline.agents.onEnd { [weak self] agent, _ in self?.stopAll(of: agent) }
    }

    /// `mcp_list_tools` (`schemas/xpander/mcp_list_tools.json`): `[{name, description, input_schema}]`.
    public func listTools(_ agentID: AgentID, input: JSONValue, entry: CallRequest.Entry) async throws(ToolError) -> [JSONValue] {
        let request = CallRequest(agentID: agentID, operation: "mcp_list_tools", input: input, schema: "xpander/mcp_list_tools", entry: entry)
        return try await pipeline.run(request, admission: .toolCall) { admitted in
            let timeout = admitted.input["timeout"]?.doubleValue ?? 60
            let tools = try await use(admitted, timeout: timeout) { client in try await client.listTools(timeout: timeout) }
            return tools.map { tool -> JSONValue in
                [
                    "name": tool["name"] ?? "", "description": tool["description"] ?? "",
                    "input_schema": tool["inputSchema"] ?? ["type": "object"],
                ]
            }
        }
    }

    /// `mcp_call_tool` (`schemas/xpander/mcp_call_tool.json`): the server's `CallToolResult`.
    public func callTool(_ agentID: AgentID, input: JSONValue, entry: CallRequest.Entry) async throws(ToolError) -> JSONValue {
        let request = CallRequest(agentID: agentID, operation: "mcp_call_tool", input: input, schema: "xpander/mcp_call_tool", entry: entry)
        return try await pipeline.run(request, admission: .toolCall) { admitted in
            let timeout = admitted.input["timeout"]?.doubleValue ?? 60
            let tool = admitted.input["tool"]?.stringValue ?? ""
            let arguments = admitted.input["arguments"] ?? [:]
            return try await use(admitted, timeout: timeout) { client in try await client.callTool(tool, arguments: arguments, timeout: timeout) }
        }
    }

    /// Runs `work` on the warm server for this call (started and initialised first when needed); a server
    /// that failed (exited, timed out, broke the protocol) is stopped, so the next call starts a fresh one.
    private func use<T: Sendable>(_ admitted: Admitted, timeout: Double, _ work: (SandboxMCPClient) async throws -> T) async throws -> T {
        let entry = try await warmEntry(admitted, timeout: timeout)
        entry.busy.withLock { $0 += 1 }
        defer {
            entry.lastUsed.withLock { $0 = .now }
            entry.busy.withLock { $0 -= 1 }
        }
        do {
            return try await work(entry.client)
        } catch {
            if !(await entry.client.isHealthy) { stop(entry) }
            throw error
        }
    }

    private func warmEntry(_ admitted: Admitted, timeout: Double) async throws -> Entry {
        let key = try Self.key(admitted)
        if let entry = entries.withLock({ $0[key] }) {
            if entry.client.session.isRunning { return entry }
            stop(entry)
        }
        let task = starting.withLock { starting -> Task<Entry, any Error> in
            if let running = starting[key] { return running }
            let task = Task { [self] in try await start(key, admitted, timeout: timeout) }
            starting[key] = task
            return task
        }
        defer { starting.withLock { $0[key] = nil } }
        return try await task.value
    }

    private func start(_ key: Key, _ admitted: Admitted, timeout: Double) async throws -> Entry {
        evictIfFull(key.agent)
        var body = ExecStartBody(command: key.command)
        body.background = true
        body.keepStdinOpen = true
        body.timeout = 0
        body.env = key.environment
        body.cwd = admitted.workspace.agent.settings.cwd
        let launch = try ExecLaunch(body, workspace: admitted.workspace, defaultTimeout: pipeline.configuration.limits.defaultTimeout)
        let session = try await sessions.start(launch, in: admitted.workspace)
        let entry = Entry(key: key, client: SandboxMCPClient(session: session))
        do {
            try await entry.client.initialize(timeout: timeout)
        } catch {
            stop(entry)
            throw error
        }
        entries.withLock { $0[key] = entry }
        watchIdle(entry)
        return entry
    }

    /// The warm-server key of a validated mcp_* input.
    static func key(_ admitted: Admitted) throws(ToolError) -> Key {
        let command: String
        switch admitted.input["command"] {
        case .string(let line)?: command = line
        case .array(let words)?:
            command = try words.map { word throws(ToolError) -> String in
                guard let text = word.stringValue else { throw ToolError.invalidField("command", "must be a command line or an array of strings.") }
                return ShellQuoting.quote(text)
            }.joined(separator: " ")
        default: throw ToolError.invalidField("command", "must be a command line or an array of strings.")
        }
        var environment: [String: String] = [:]
        for (name, value) in admitted.input["env_vars"]?.objectValue ?? [:] {
            guard let text = value.stringValue else { throw ToolError.invalidField("env_vars.\(name.prefix(64))", "must be a string.") }
            environment[name] = text
        }
        return Key(
            agent: admitted.agent.id, name: admitted.input["name"]?.stringValue ?? "", command: command,
            environment: environment, directory: admitted.workspace.agent.settings.cwd ?? "")
    }

    // MARK: Stopping

    /// Stops the server once it has been idle for `idleSeconds` (never during a call).
    private func watchIdle(_ entry: Entry) {
        let idle = Duration.milliseconds(Int64(idleSeconds * 1000))
        Task { [weak self] in
            while true {
                let due = entry.lastUsed.withLock { $0 } + idle
                if ContinuousClock.now >= due, entry.busy.withLock({ $0 }) == 0 { break }
                try? await Task.sleep(for: max(.milliseconds(100), due - ContinuousClock.now))
                guard let self, self.isCurrent(entry) else { return }
            }
            self?.stop(entry)
        }
    }

    private func isCurrent(_ entry: Entry) -> Bool {
        entries.withLock { $0[entry.key] === entry }
    }

    private func evictIfFull(_ agent: AgentID) {
        let victims = entries.withLock { entries -> [Entry] in
            let mine = entries.values.filter { $0.key.agent == agent }.sorted { $0.lastUsed.withLock { $0 } < $1.lastUsed.withLock { $0 } }
            return Array(mine.prefix(max(0, mine.count - perAgent + 1)))
        }
        victims.forEach(stop)
    }

    /// Forgets the server and kills its session tree.
    func stop(_ entry: Entry) {
        entries.withLock { if $0[entry.key] === entry { $0[entry.key] = nil } }
        entry.client.session.terminate()
    }

    /// Stops every warm server of the agent (suspend, delete).
    public func stopAll(of agent: AgentID) {
        let mine = entries.withLock { entries in entries.values.filter { $0.key.agent == agent } }
        mine.forEach(stop)
    }

    /// How many servers are warm (for tests and metrics).
    public var warmCount: Int { entries.withLock { $0.count } }
}
