import Foundation
import SandboxKernel
import Synchronization

/// The one road every call takes, whatever door it came in by (a REST tool route, `tools/call` in any
/// model's shape, the workspace family, exec and its session routes, MCP, the seed APIs' shapes):
///
/// ```
/// admit (agent state, concurrency) → validate (schemas/) → run → one error mapping → audit + metrics
/// ```
///
/// An entry point only adapts its wire shape: it builds a `CallRequest`, hands the pipeline the work to
/// run, and turns the result (or the `ToolError` it throws) into its own reply. Nothing else decodes
/// bodies against schemas, counts calls or turns errors into statuses.
///
/// ```swift
/// let envelope = try await pipeline.callTool(CallRequest(agentID: id, operation: "bash", input: input, entry: .sandbox))
/// ```
///
/// A class: every call's ticket and closures hold it, and one reference costs one retain where the
/// eight services copied as a struct cost eight.
public final class CallPipeline: Sendable {
    public let agents: AgentRegistry
    public let tools: ToolRegistry
    public let schemas: SchemaCatalog
    public let configuration: ServerConfiguration
    public let launcher: ProcessLauncher
    public let shares: ShareService
    public let audit: AuditLog
    public let metrics: Metrics

    public init(
        agents: AgentRegistry, tools: ToolRegistry, schemas: SchemaCatalog, configuration: ServerConfiguration,
        launcher: ProcessLauncher, shares: ShareService, audit: AuditLog, metrics: Metrics
    ) {
        self.agents = agents
        self.tools = tools
        self.schemas = schemas
        self.configuration = configuration
        self.launcher = launcher
        self.shares = shares
        self.audit = audit
        self.metrics = metrics
    }

    /// Runs `work` for `request` through every stage: admits the agent as `admission` says, validates the
    /// input against `request.schema` (when given), runs, normalises any failure into a `ToolError`, and
    /// audits and counts the call — also when it fails before it ran. `bytes` sizes the output for audit.
    nonisolated(nonsending) public func run<Output: Sendable>(
        _ request: CallRequest, admission: Admission,
        bytes: (Output) -> Int = { _ in 0 },
        _ work: (Admitted) async throws -> Output
    ) async throws(ToolError) -> Output {
        let ticket = try await begin(request, admission: admission)
        do {
            let output = try await work(ticket.admitted)
            ticket.finish(bytes: bytes(output))
            return output
        } catch {
            throw ticket.fail(error)
        }
    }

    /// The first half of `run`, for calls whose answer outlives the handler (a streamed archive, an SSE
    /// exec): admits and validates now; the returned ticket audits and releases the call when `finish`ed.
    nonisolated(nonsending) public func begin(_ request: CallRequest, admission: Admission) async throws(ToolError) -> CallTicket {
        let ticket = CallTicket(request: request, pipeline: self)
        metrics.callStarted()
        do {
            let agent = try await admit(request.agentID, admission)
            if admission == .toolCall {
                try agents.beginCall(agent)
                ticket.holdsSlot = true
            }
            // Its disk mounted for as long as the call lasts (a streamed reply, a watch: until finished).
            ticket.lease = try await agents.leaseDisk(agent)
            var input = request.input
            if let schema = request.schema {
                guard let validator = schemas.validator(for: schema) else {
                    throw ToolError(.internalError, "No schema is published for '\(schema)'.")
                }
                input = try validator.validate(input)
            }
            ticket.admitted = Admitted(agent: agent, input: input, workspace: workspace(for: agent))
            return ticket
        } catch {
            throw ticket.fail(error)
        }
    }

    /// Audits and counts a call refused before any agent was looked up (an unknown tool), then throws.
    public func reject(_ request: CallRequest, _ error: ToolError) throws(ToolError) -> Never {
        metrics.callStarted()
        throw CallTicket(request: request, pipeline: self).fail(error)
    }

    /// The workspace of `agent`, ready for tools and commands.
    public func workspace(for agent: Agent) -> Workspace {
        Workspace(
            agent: agent, launchIdentity: configuration.launchIdentity(for: agent.identity), launcher: launcher,
            network: agent.settings.network ?? configuration.network,
            limits: agents.limits(of: agent), rootDescriptor: agents.rootDescriptor(for: agent))
    }

    /// The agent as `admission` requires it (404, 409, 410 as `AgentRegistry` decides).
    nonisolated(nonsending) private func admit(_ id: AgentID, _ admission: Admission) async throws -> Agent {
        switch admission {
        case .toolCall, .session:
            if let cached = agents.cachedAgentForToolCall(id) { return cached }
            return try await agents.agentForToolCall(id)
        case .activeAgent:
            let agent = try await agents.agent(id)
            if agent.state == .suspended { throw AgentRegistry.suspendedError(id) }
            return agent
        case .anyAgent:
            return try await agents.agent(id)
        }
    }

    func record(_ request: CallRequest, startedAt: Date, since started: ContinuousClock.Instant, status: String, bytes: Int) {
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let operation = request.auditName
        metrics.recordCall(tool: operation, entry: request.entry.rawValue, status: status, seconds: seconds)
        audit.record(AuditEntry(
            agentId: request.agentID.rawValue, tool: operation, startedAt: startedAt, durationMs: seconds * 1000,
            status: status, bytes: Int64(bytes)))
    }

    static func bytes(of envelope: Envelope) -> Int {
        (envelope.stdout?.utf8.count ?? 0) + (envelope.stderr?.utf8.count ?? 0) + (envelope.content?.utf8.count ?? 0)
    }
}

/// One admitted call in progress: `finish` or `fail` it exactly once (later calls are ignored); that
/// audits it, counts it and releases its concurrency slot.
public final class CallTicket: @unchecked Sendable {
    let request: CallRequest
    let pipeline: CallPipeline
    let startedAt = Date()
    let started = ContinuousClock.now
    var holdsSlot = false
    /// The agent's disk, mounted while the call lasts.
    var lease: DiskLease?
    /// Set once admission succeeded (always, for a ticket `begin` returned).
    public internal(set) var admitted: Admitted!
    private let finished = Atomic<Bool>(false)

    init(request: CallRequest, pipeline: CallPipeline) {
        self.request = request
        self.pipeline = pipeline
    }

    /// The call succeeded; `bytes` is the size of its output.
    public func finish(bytes: Int = 0) {
        end(status: "ok", bytes: bytes)
    }

    /// The call failed: records it under the normalised error's code and returns that error to throw.
    @discardableResult
    public func fail(_ error: any Error) -> ToolError {
        // file_share writes to the server's share store, outside the agent's disk: its ENOSPC is the host's.
        let failure = request.operation == "file_share" ? ToolError(normalizing: error) : DiskQuotaError.explained(ToolError(normalizing: error), agent: admitted?.agent)
        end(status: failure.code.rawValue, bytes: failure.envelope.map(CallPipeline.bytes(of:)) ?? 0)
        return failure
    }

    private func end(status: String, bytes: Int) {
        guard !finished.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if holdsSlot { pipeline.agents.finishCall(request.agentID) }
        lease?.release()
        pipeline.metrics.callEnded()
        pipeline.record(request, startedAt: startedAt, since: started, status: status, bytes: bytes)
    }

    deinit {
        // A ticket dropped without an outcome (a bug, or a task torn down): never leak the slot.
        if !finished.load(ordering: .acquiring) { end(status: ToolError.Code.cancelled.rawValue, bytes: 0) }
    }
}

/// What a call runs with once admitted: the agent, its validated input, its workspace. A class, so
/// handing it to the work (and on to a tool) is one retain, not a copy of two large structs.
public final class Admitted: Sendable {
    public let agent: Agent
    /// The input after schema validation: aliases renamed, defaults filled in.
    public let input: JSONValue
    public let workspace: Workspace

    init(agent: Agent, input: JSONValue, workspace: Workspace) {
        self.agent = agent
        self.input = input
        self.workspace = workspace
    }
}

/// How a call needs its agent.
public enum Admission: Sendable, Equatable {
    /// A unit of work: the agent is created on first use (when implicit creation is on), must be active,
    /// and the call counts against its concurrency limit (429 past it).
    case toolCall
    /// Starting long-lived work (an exec session): like `toolCall` — created on first use, must be
    /// active — but not counted against the concurrency limit (sessions have a limit of their own).
    case session
    /// Control of something the agent already has (an exec session's stdin): it must exist and be active.
    case activeAgent
    /// A read of the agent's state: it must exist (suspended is fine).
    case anyAgent
}
