#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation
import Logging
import Synchronization
import SandboxKernel

/// Every exec session of the server: starts them (within the per-agent limit), finds them, records them
/// in SQLite, forgets finished ones after the retention time, and ends them with their agent or the server.
public final class ExecSessionManager: Sendable {
    private struct State {
        var sessions: [String: ExecSession] = [:]
        /// Starts in progress per agent (they count against the limit before they are registered).
        var starting: [AgentID: Int] = [:]
        var shuttingDown = false
        var shutdownTask: Task<Void, Never>?
    }

    private let store: any SandboxStore
    private let launcher: ProcessLauncher
    let limits: ResourceLimits
    private let logger: Logger
    private let state = Mutex(State())
    /// The exec tokens that open terminal WebSockets (in memory: they live seconds to minutes).
    public let tokens = ExecTokenStore()

    public init(store: any SandboxStore, launcher: ProcessLauncher, limits: ResourceLimits, logger: Logger) {
        self.store = store
        self.launcher = launcher
        self.limits = limits
        self.logger = logger
    }

    /// At start-up: whatever the previous server process was running is `lost`.
    /// Sessions whose command is still running (for `/metrics`).
    public var runningCount: Int {
        state.withLock { $0.sessions.values.filter(\.isRunning).count }
    }

    public func recoverAfterRestart() async throws {
        let lost = try await store.markRunningExecSessionsLost()
        if lost > 0 { logger.warning("\(lost) exec session(s) of the previous server process are marked lost") }
    }

    // MARK: Starting

    /// Starts `launch` for the workspace's agent; 429 past the per-agent limit of running sessions.
    public func start(_ launch: ExecLaunch, in workspace: Workspace) async throws -> ExecSession {
        let agent = workspace.agent.id
        try reserveSlot(for: agent)
        defer { state.withLock { $0.starting[agent, default: 1] -= 1 } }

        let wake = try ExecSession.makeWakePipe()
        let process: SessionProcess
        var terminal: PseudoTerminal?
        do {
            if let size = launch.terminal {
                (process, terminal) = try await launcher.startTerminalSession(launch.launchRequest(in: workspace), cols: size.cols, rows: size.rows)
            } else {
                process = try await launcher.startSession(launch.launchRequest(in: workspace), withStdin: launch.stdin != nil || launch.keepStdinOpen)
            }
        } catch {
            close(wake.read)
            close(wake.write)
            throw error
        }
        let session = ExecSession(
            id: ExecSession.newID(), agent: agent, command: launch.command, cwd: launch.directory, background: launch.background,
            process: process, bufferBytes: limits.execBufferBytes, wakeFD: wake.write, terminal: terminal)
        if let stdin = launch.stdin { try? session.writeStdin(stdin, eof: !launch.keepStdinOpen) }
        state.withLock { $0.sessions[session.id] = session }
        do {
            try await store.insertExecSession(session.record)
        } catch {
            logger.error("exec session \(session.id) not recorded: \(error)")
        }
        let pump = ExecSessionPump(session: session, pipes: process.pipes, wakeRead: wake.read, deadline: launch.timeout.map { Date().addingTimeInterval($0) })
        ExecSessionPump.start(pump) { [self] ended in
            Task { await persistEnd(of: ended) }
        }
        return session
    }

    private func reserveSlot(for agent: AgentID) throws(ToolError) {
        let limit = limits.execSessionsPerAgent
        try state.withLock { state throws(ToolError) in
            guard !state.shuttingDown else { throw ToolError(.internalError, "The server is shutting down; start the session again once it is back.") }
            let running = state.sessions.values.filter { $0.agent == agent && $0.isRunning }.count + state.starting[agent, default: 0]
            guard running < limit else {
                throw ToolError(.tooManyRequests, "Agent \(agent) already has \(limit) exec sessions running; end one (POST .../exec/{session_id}/kill or DELETE) and retry.")
            }
            state.starting[agent, default: 0] += 1
        }
    }

    /// Records how the session ended; a session the server's shutdown ended is `lost` to the next server.
    private func persistEnd(of session: ExecSession) async {
        var record = session.record
        if state.withLock({ $0.shuttingDown }) { record.state = ExecSessionState.lost.rawValue }
        do {
            try await store.finishExecSession(record)
        } catch {
            logger.error("exec session \(session.id) end not recorded: \(error)")
        }
    }

    // MARK: Finding

    /// The agent's live (in-memory) session `id`.
    public func session(agent: AgentID, id: String) -> ExecSession? {
        state.withLock { $0.sessions[id] }.flatMap { $0.agent == agent ? $0 : nil }
    }

    /// The session, or 404; a session only the database remembers (`lost`) is returned as its record.
    public func lookup(agent: AgentID, id: String) async throws -> Either {
        if let session = session(agent: agent, id: id) { return .live(session) }
        if let record = try await store.execSession(id: id), record.agentId == agent.rawValue { return .recorded(record) }
        throw ToolError(.sessionNotFound, "No exec session '\(id.prefix(64))' for agent \(agent). List them with GET /v1/agents/\(agent)/exec; finished sessions are forgotten after \(Int(limits.execRetentionSeconds)) s.")
    }

    /// A session in memory, or only in the database.
    public enum Either: Sendable {
        case live(ExecSession)
        case recorded(ExecSessionRecord)
    }

    /// The agent's sessions, oldest first: live ones and those only the database remembers.
    public func list(agent: AgentID) async throws -> [JSONValue] {
        let live = state.withLock { $0.sessions.values.filter { $0.agent == agent } }
        let known = Set(live.map(\.id))
        let recorded = try await store.execSessions(agent: agent.rawValue).filter { !known.contains($0.id) }
        let entries = live.map { ($0.startedAt, $0.json()) } + recorded.map { ($0.startedAt, $0.json()) }
        return entries.sorted { $0.0 < $1.0 }.map(\.1)
    }

    // MARK: Ending

    /// Kills the session's tree and forgets it (`DELETE`).
    public func remove(agent: AgentID, id: String) async throws {
        let target = try await lookup(agent: agent, id: id)
        if case .live(let session) = target {
            session.terminate()
            _ = await session.waitUntilEnded(timeout: 10)
            state.withLock { _ = $0.sessions.removeValue(forKey: id) }
        }
        try await store.deleteExecSessions(ids: [id])
    }

    /// Ends every session of `agent` (suspend, delete); `forget` also drops their records.
    public func endAll(of agent: AgentID, forget: Bool) async {
        let sessions = state.withLock { $0.sessions.values.filter { $0.agent == agent } }
        for session in sessions { session.terminate() }
        for session in sessions { _ = await session.waitUntilEnded(timeout: 10) }
        guard forget else { return }
        state.withLock { state in for session in sessions { state.sessions[session.id] = nil } }
        try? await store.deleteExecSessions(agent: agent.rawValue)
    }

    /// Server shutdown: SIGTERM to every running session, SIGKILL to what is left after `grace` seconds;
    /// records how each ended. Idempotent: later calls wait for the first one.
    public func shutdown(grace: Double = 2) async {
        let task = state.withLock { state in
            state.shuttingDown = true
            if state.shutdownTask == nil { state.shutdownTask = Task { [self] in await endEverything(grace: grace) } }
            return state.shutdownTask!
        }
        await task.value
    }

    private func endEverything(grace: Double) async {
        let running = state.withLock { $0.sessions.values.filter(\.isRunning) }
        guard !running.isEmpty else { return }
        logger.info("ending \(running.count) exec session(s)")
        for session in running { try? session.signal(SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        for session in running { _ = await session.waitUntilEnded(timeout: max(0, deadline.timeIntervalSinceNow)) }
        for session in running where session.isRunning { session.terminate() }
        for session in running {
            _ = await session.waitUntilEnded(timeout: 10)
            await persistEnd(of: session)
        }
    }

    /// Forgets finished sessions past the retention time, and the oldest past the per-agent count.
    public func sweep(now: Date = Date()) async {
        let cutoff = now.addingTimeInterval(-limits.execRetentionSeconds)
        let expired = state.withLock { state -> [String] in
            var drop = state.sessions.values.filter { ($0.finishedAt ?? .distantFuture) < cutoff }.map(\.id)
            let finished = Dictionary(grouping: state.sessions.values.filter { !$0.isRunning && !drop.contains($0.id) }, by: \.agent)
            for (_, sessions) in finished where sessions.count > limits.execFinishedPerAgent {
                let oldest = sessions.sorted { ($0.finishedAt ?? now) < ($1.finishedAt ?? now) }
                drop += oldest.prefix(sessions.count - limits.execFinishedPerAgent).map(\.id)
            }
            for id in drop { state.sessions[id] = nil }
            return drop
        }
        do {
            try await store.deleteExecSessions(ids: expired)
            try await store.deleteExecSessions(finishedBefore: cutoff)
        } catch is CancellationError {
            return  // the server is stopping
        } catch {
            logger.error("exec session sweep failed: \(error)")
        }
    }
}
