#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation
import Synchronization
import SandboxKernel

/// Creates, finds and deletes agents: their row in the store, their uid, their workspace directory
/// and their cgroups. Keeps live agents in memory so a tool call costs no database read.
public final class AgentRegistry: Sendable {
    let store: any SandboxStore
    let configuration: ServerConfiguration
    let cgroups: CgroupController?
    let cache = Mutex<[AgentID: Agent]>([:])
    let callsInFlight = Mutex<[AgentID: Int]>([:])
    /// When each agent's latest call began, in this process: the store learns it only when the audit
    /// log is flushed, so `agent(_:)` and `list()` both lay this over what they read.
    let lastUse = Mutex<[AgentID: Date]>([:])
    /// Agents being deleted: their calls get 410 while their processes and files go.
    private let deleting = Mutex<Set<AgentID>>([])
    /// Agents whose disk is being resized offline: their calls get 429 until it is back.
    let resizing = Mutex<Set<AgentID>>([])
    private let endObservers = Mutex<[@Sendable (AgentID, AgentEnd) async -> Void]>([])
    let roots = RootDescriptorCache()
    /// Which disk images are mounted, and who uses them (`DiskMounts`).
    public let mounts: DiskMounts
    /// Implicit creations in progress: concurrent first calls of one agent (a model's parallel tool
    /// calls) share one creation instead of racing on its workspace directory.
    private let creations = Mutex<[AgentID: Task<Agent, any Error>]>([:])
    public init(store: any SandboxStore, configuration: ServerConfiguration, cgroups: CgroupController?) {
        self.store = store
        self.configuration = configuration
        self.cgroups = cgroups
        // The paths as strings once (a `URL`'s `path` is rebuilt each time it is asked for).
        let (roots, dataRoot, stateDirectory) = (roots, configuration.dataRoot.path, configuration.stateDirectory.path)
        mounts = DiskMounts(idleSeconds: configuration.diskIdleSeconds) { id in
            DiskImage(id: id, dataRoot: dataRoot, stateDirectory: stateDirectory)
        } beforeUnmount: { id in
            if let agent = try? AgentID(id) { roots.forget(agent) }
        }
    }

    private var uidRange: ClosedRange<Int64> {
        Int64(configuration.uidBase)...Int64(configuration.uidBase) + Int64(configuration.uidCount) - 1
    }

    /// Creates an agent (a random id when nil). Returns the agent and whether it is new.
    /// An agent's network mode is fixed when it is created: its own, or the server's default then.
    public func create(_ requested: AgentID? = nil, settings requestedSettings: AgentSettings = AgentSettings()) async throws -> (Agent, created: Bool) {
        let id = requested ?? AgentID.random()
        var settings = try await diskSettings(requestedSettings)
        if settings.network == nil { settings.network = configuration.network }
        let encoded = settings == AgentSettings() ? nil : String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        let (record, created) = try await store.provisionAgent(id: id.rawValue, uids: uidRange, settings: encoded)
        roots.forget(id)
        if created {
            // A directory (or disk image) left by an earlier agent of this id (e.g. a crash mid-delete)
            // is not this agent's; removing it is a tree walk, so off the cooperative pool.
            try await prepareDisk(id, bytes: settings.diskBytes)
            if settings.diskBytes != nil { mounts.adopt(id.rawValue) }
        }
        let agent = try makeAgent(record)
        try prepareWorkspace(agent)
        cgroups?.prepareAgent(id.rawValue, limits: limits(of: agent).processLimits)
        cache.withLock { $0[id] = agent }
        return (agent, created)
    }

    /// The agent, or 404 / 410.
    public func agent(_ id: AgentID) async throws -> Agent {
        if deleting.withLock({ $0.contains(id) }) { throw Self.deletedError(id) }
        if resizing.withLock({ $0.contains(id) }) { throw Self.resizingError(id) }
        if let cached = cache.withLock({ $0[id] }) { return withLastUse(cached) }
        guard let record = try await store.agent(id: id.rawValue) else {
            throw ToolError(.agentNotFound, "No agent \(id). Create it with POST /v1/agents or call a tool for it.")
        }
        if record.state == .deleted { throw Self.deletedError(id) }
        let agent = try makeAgent(record)
        cache.withLock { $0[id] = agent }
        return withLastUse(agent)
    }

    /// The agent as `GET /v1/agents/{id}` shows it: like `agent(_:)`, with `last_used_at` read fresh
    /// from the store (the cached record keeps the time it was loaded with), as `list()` reads it.
    public func inspect(_ id: AgentID) async throws -> Agent {
        var agent = try await self.agent(id)
        agent.lastUsedAt = try await store.agent(id: id.rawValue)?.lastUsedAt
        return withLastUse(agent)
    }

    /// The state of the agent as this process last saw it; nil when it is not in memory.
    func cachedState(of id: AgentID) -> AgentRecord.State? {
        cache.withLock { $0[id]?.state }
    }

    /// The agent of a tool call when it is in memory and active, without suspending; nil when
    /// `agentForToolCall` must decide (not cached, being deleted, suspended).
    public func cachedAgentForToolCall(_ id: AgentID) -> Agent? {
        if deleting.withLock({ $0.contains(id) }) || resizing.withLock({ $0.contains(id) }) { return nil }
        guard let agent = cache.withLock({ $0[id] }), agent.state != .suspended else { return nil }
        return agent
    }

    /// The agent a tool call runs for: created on first use when implicit creation is on;
    /// 409 when suspended, 410 when deleted.
    /// Creates the agent for its first call; callers arriving meanwhile wait for the same creation.
    private func createOnce(_ id: AgentID) async throws -> Agent {
        let task = creations.withLock { running in
            if let existing = running[id] { return existing }
            let created = Task { try await self.create(id).0 }
            running[id] = created
            return created
        }
        defer { creations.withLock { running in if running[id] == task { running[id] = nil } } }
        return try await task.value
    }

    public func agentForToolCall(_ id: AgentID) async throws -> Agent {
        var agent: Agent
        do {
            agent = try await self.agent(id)
        } catch let error as ToolError where error.code == .agentNotFound && configuration.implicitAgentCreation {
            agent = try await createOnce(id)
        }
        // Another call's creation stores the row before it prepares the workspace: a call that found the
        // row meanwhile waits for that creation to end (it ran on a missing workspace otherwise).
        if let creating = creations.withLock({ $0[id] }) { agent = try await creating.value }
        if agent.state == .suspended { throw Self.suspendedError(id) }
        return agent
    }

    /// 409: the agent is suspended.
    public static func suspendedError(_ id: AgentID) -> ToolError {
        ToolError(.agentSuspended, "Agent \(id) is suspended. Resume it with POST /v1/agents/\(id)/resume.")
    }

    /// How many agents the store holds in each state (for `/metrics`).
    public func countByState() async throws -> [String: Int] {
        try await store.agentCountByState()
    }

    public func list() async throws -> [Agent] {
        try await store.liveAgents().map { withLastUse(try makeAgent($0)) }
    }

    /// `agent` with `last_used_at` the later of the stored time and a call begun since the last flush.
    private func withLastUse(_ agent: Agent) -> Agent {
        guard let recent = lastUse.withLock({ $0[agent.id] }), agent.lastUsedAt.map({ $0 < recent }) ?? true else { return agent }
        var updated = agent
        updated.lastUsedAt = recent
        return updated
    }

    /// Bytes the workspace at `path` uses, counted off the cooperative threads (a `ToolError` when the
    /// walk had to stop: out of descriptors or memory, or the tree moved under it).
    public func diskUsage(of path: String) async throws -> Int64 {
        try await BlockingWork.run { try DiskUsage.bytes(under: path) }
    }

    /// The agent's disk: its workspace plus the content its shares keep (see `AgentStorage`).
    public func storage(of agent: Agent) async throws -> AgentStorage {
        let shares = try await ShareService(store: store, configuration: configuration).usage(agent: agent.id)
        let lease = try await leaseDisk(agent)
        defer { lease?.release() }
        return AgentStorage(workspaceBytes: try await diskUsage(of: agent.workspacePath), shares: shares)
    }

    /// Whether the agent exists now (not deleted).
    public func exists(_ id: AgentID) async -> Bool {
        (try? await agent(id)) != nil
    }

    /// Undoes the creation of an agent a failed call made: deletes it as `delete` does, then forgets its
    /// row, so the id is unknown again (404, not 410). Failures are ignored: best effort.
    public func discard(_ id: AgentID) async {
        guard (try? await delete(id)) != nil else { return }
        cache.withLock { $0[id] = nil }
        try? await store.forgetAgent(id: id.rawValue)
    }

    /// Kills the agent's processes, removes its workspace and cgroups, frees its uid.
    ///
    /// The uid is freed last, once nothing of the agent runs any more: freed earlier, a new agent could be
    /// given the uid while the per-uid kill sweep below is still running, and lose its processes.
    public func delete(_ id: AgentID) async throws {
        let agent = try await self.agent(id)
        deleting.withLock { _ = $0.insert(id) }
        defer { deleting.withLock { _ = $0.remove(id) } }
        cache.withLock { $0[id] = nil }
        lastUse.withLock { $0[id] = nil }
        roots.forget(id)
        defer { roots.forget(id) }
        try await ShareService(store: store, configuration: configuration).revokeAll(agent: id)
        await notifyEnd(id, .deleted)
        let isolated = configuration.launchIdentity(for: agent.identity) != nil
        let failure: Int32? = try await BlockingWork.run { [cgroups, configuration] in
            cgroups?.removeAgent(id.rawValue)
            if isolated { Self.killProcesses(of: agent.identity.uid) }
            return Self.removeDisk(of: agent, configuration) == 0 ? nil : errno
        }
        mounts.forget(id.rawValue)
        try await store.setState(.deleted, of: id.rawValue)
        if let failure {
            throw ToolError(.internalError, "Agent \(id) was deleted but its workspace could not be fully removed: \(String(cString: strerror(failure))).")
        }
    }

    /// Suspends (freezes every process of the agent) or resumes it.
    public func setState(_ state: AgentRecord.State, of id: AgentID) async throws -> Agent {
        var agent = try await self.agent(id)
        try await store.setState(state, of: id.rawValue)
        if state == .suspended { await notifyEnd(id, .suspended) }
        cgroups?.setFrozen(state == .suspended, agent: id.rawValue)
        agent.state = state
        let updated = agent
        cache.withLock { $0[id] = updated }
        return updated
    }

    /// Changes the agent's stored settings (e.g. its working directory) and returns the updated agent.
    public func updateSettings(of id: AgentID, _ change: @Sendable (inout AgentSettings) -> Void) async throws -> Agent {
        var agent = try await self.agent(id)
        change(&agent.settings)
        let encoded = agent.settings == AgentSettings() ? nil : String(decoding: try JSONEncoder().encode(agent.settings), as: UTF8.self)
        try await store.setSettings(encoded, of: id.rawValue)
        let updated = agent
        cache.withLock { if $0[id] != nil { $0[id] = updated } }
        return updated
    }

    /// The agent's workspace root, opened once and shared by its calls (nil: open it per call).
    public func rootDescriptor(for agent: Agent) -> RootDescriptor? {
        roots.descriptor(for: agent.id, path: agent.workspacePath)
    }

    /// The agent's workspace directory was replaced (an archive import): its next call opens the new one.
    public func workspaceReplaced(_ id: AgentID) {
        roots.forget(id)
    }

    /// Counts a call against the agent's concurrency limit (429 past it); `finish` releases it.
    public func beginCall(_ agent: Agent) throws(ToolError) {
        let id = agent.id
        let limit = limits(of: agent).concurrentCallsPerAgent
        let admitted = callsInFlight.withLock { calls in
            let current = calls[id, default: 0]
            guard current < limit else { return false }
            calls[id] = current + 1
            return true
        }
        if !admitted {
            throw ToolError(.tooManyRequests, "Agent \(id) already has \(limit) calls running; wait for one to finish and retry.")
        }
        let now = Date()
        lastUse.withLock { $0[id] = now }
    }

    public func finishCall(_ id: AgentID) {
        callsInFlight.withLock { calls in
            let remaining = calls[id, default: 1] - 1
            calls[id] = remaining > 0 ? remaining : nil
        }
    }

    /// The agent's effective limits: its overrides on top of the server's.
    public func limits(of agent: Agent) -> ResourceLimits {
        agent.settings.applied(to: configuration.limits)
    }

    /// Registers work to run when an agent stops running here: suspended, deleted or moved to another
    /// node (its exec sessions end with it).
    public func onEnd(_ observer: @escaping @Sendable (AgentID, AgentEnd) async -> Void) {
        endObservers.withLock { $0.append(observer) }
    }

    func notifyEnd(_ id: AgentID, _ end: AgentEnd) async {
        for observer in endObservers.withLock({ $0 }) { await observer(id, end) }
    }

    // MARK: Internals

    func makeAgent(_ record: AgentRecord) throws -> Agent {
        if let owner = record.nodeId, owner != store.nodeID, record.state != .deleted {
            // A cluster's agent lives on one node: its uid and workspace are that node's.
            // 409 AGENT_MOVING with Retry-After: a gateway that still had this node cached asks the store again.
            throw ToolError(.agentMoving, "Agent \(record.id) lives on node \(owner), not on this node (\(store.nodeID ?? "")): it moved, or the call came around the gateway. Retry through the cluster's gateway.")
        }
        guard let uid = record.uid else { throw Self.deletedError(try AgentID(record.id)) }
        var agent = Agent(
            id: try AgentID(record.id), identity: Identity(uid: UInt32(uid), gid: UInt32(uid)), state: record.state,
            createdAt: record.createdAt, lastUsedAt: record.lastUsedAt,
            workspacePath: workspacePath(of: record.id))
        agent.egressDefault = configuration.isolatedNetwork.egress
        if let settings = record.settings {
            agent.settings = (try? JSONDecoder().decode(AgentSettings.self, from: Data(settings.utf8))) ?? AgentSettings()
        }
        return agent
    }

    static func resizingError(_ id: AgentID) -> ToolError {
        ToolError(.tooManyRequests, "Agent \(id)'s disk is being resized; retry in a moment.")
    }

    private static func deletedError(_ id: AgentID) -> ToolError {
        ToolError(.agentDeleted, "Agent \(id) was deleted. Create it again with POST /v1/agents {\"agent_id\": \"\(id)\"}.")
    }

    /// `DATA/<id>/`, mode 0700, owned by the agent (or the server in shared-uid mode).
    func prepareWorkspace(_ agent: Agent) throws {
        let path = agent.workspacePath
        let owner = configuration.launchIdentity(for: agent.identity) ?? Identity(uid: getuid(), gid: getgid())
        if mkdir(path, 0o700) != 0, errno != EEXIST {
            throw ToolError(.internalError, "Cannot create the workspace \(path): \(String(cString: strerror(errno))).")
        }
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ToolError(.internalError, "The workspace \(path) is not a directory.")
        }
        if info.st_uid != owner.uid || info.st_gid != owner.gid { _ = chown(path, owner.uid, owner.gid) }
        if info.st_mode & 0o7777 != 0o700 { _ = chmod(path, 0o700) }
    }

    /// Without a cgroup (or as a backstop), every process of a dedicated uid belongs to the agent.
    static func killProcesses(of uid: UInt32) {
        guard uid != 0, uid != getuid() else { return }
        for _ in 0..<50 {
            let pids = ProcessTable.pids(ownedBy: uid)
            if pids.isEmpty { return }
            for pid in pids { kill(pid, SIGKILL) }
            usleep(2000)
        }
    }
}

extension ServerConfiguration {
    /// The identity to launch as, or nil in shared-uid mode.
    public func launchIdentity(for identity: Identity) -> Identity? {
        allowSharedUID ? nil : identity
    }
}
