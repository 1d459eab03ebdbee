import Foundation
import Synchronization

/// A gateway's view of the cluster: the nodes (re-read at most every `nodeRefreshInterval`) and which
/// node owns which agent (cached for `ownerCacheSeconds`, dropped at once by `invalidate` — after a move
/// or when the node could not be reached). The shared store stays the authority: the cache only saves
/// round trips, and an answer that says the node is gone is checked against the store once more.
public final class AgentCatalog: Sendable {
    public let directory: any ClusterDirectory
    public let settings: ClusterTiming
    private let nodeView = Mutex<(nodes: [ClusterNode], readAt: ContinuousClock.Instant)?>(nil)
    /// Whether a background read of the nodes is under way (`renewNodesInBackground`).
    private let renewing = Mutex(false)
    private let owners = Mutex<[AgentID: (owner: AgentOwner, readAt: ContinuousClock.Instant)]>([:])
    /// Cached owners kept at most (the cache is emptied past it: a simple bound, no LRU bookkeeping).
    private let ownerLimit = 100_000
    /// `settings`' refresh interval and owner cache time as durations, converted once (on every call otherwise).
    private let nodeInterval: Duration
    private let nodeStaleAge: Duration
    private let ownerTime: Duration

    public init(directory: any ClusterDirectory, settings: ClusterTiming = ClusterTiming()) {
        self.directory = directory
        self.settings = settings
        nodeInterval = .milliseconds(Int(settings.nodeRefreshInterval * 1000))
        nodeStaleAge = nodeInterval * 5
        ownerTime = .milliseconds(Int(settings.ownerCacheSeconds * 1000))
    }

    /// The nodes, from the cached view unless `fresh`. A view older than the refresh interval is still
    /// answered (the request path does not wait for the store) while one background read renews it; a
    /// view five intervals old (the store did not answer meanwhile) is re-read before answering.
    public func nodes(fresh: Bool = false) async throws -> [ClusterNode] {
        let now = ContinuousClock.now
        let interval = nodeInterval
        if !fresh, let view = nodeView.withLock({ $0 }) {
            if now - view.readAt < interval { return view.nodes }
            if now - view.readAt < nodeStaleAge {
                renewNodesInBackground()
                return view.nodes
            }
        }
        let nodes = try await directory.nodes()
        nodeView.withLock { $0 = (nodes, now) }
        return nodes
    }

    /// One read of the nodes at a time, off the request path.
    private func renewNodesInBackground() {
        let start = renewing.withLock { running in
            defer { running = true }
            return !running
        }
        guard start else { return }
        Task {
            let now = ContinuousClock.now
            if let nodes = try? await directory.nodes() { nodeView.withLock { $0 = (nodes, now) } }
            renewing.withLock { $0 = false }
        }
    }

    /// The node named `name` from the current view.
    public func node(named name: String, fresh: Bool = false) async throws -> ClusterNode? {
        try await nodes(fresh: fresh).first { $0.id == name }
    }

    /// The live node that owns `agent`, or nil when no node owns it (not created yet, or deleted).
    /// Throws 503 `NODE_UNAVAILABLE` when its node's heartbeat expired (after re-reading the store once:
    /// the agent may have moved, the node may have come back).
    public func locate(_ agent: AgentID) async throws -> ClusterNode? {
        if let cached = cachedOwner(agent), let node = try await node(named: cached.node), node.isAlive(window: settings.livenessWindow) {
            return node
        }
        guard let owner = try await directory.owner(of: agent) else {
            invalidate(agent)
            return nil
        }
        let node = try await self.node(named: owner.node, fresh: true)
        guard let node, node.isAlive(window: settings.livenessWindow) else {
            invalidate(agent)
            throw Self.unavailable(agent: agent, node: owner.node, age: node?.heartbeatAge())
        }
        remember(agent, owner)
        return node
    }

    /// The live node that owns `agent`, from the caches alone — no store access, no suspension (the
    /// gateway's fast path, `GatewayFastPath`). nil when `locate` would read the store: the owner is not
    /// cached (or is older than `ownerCacheSeconds`), the node view is five refresh intervals old, or the
    /// node is not alive. A view past one interval is still used while a background read renews it, as
    /// `nodes()` does.
    public func cachedLocation(of agent: AgentID) -> ClusterNode? {
        guard let owner = cachedOwner(agent), let view = nodeView.withLock({ $0 }) else { return nil }
        let age = ContinuousClock.now - view.readAt
        guard age < nodeStaleAge else { return nil }
        if age >= nodeInterval { renewNodesInBackground() }
        guard let node = view.nodes.first(where: { $0.id == owner.node }), node.isAlive(window: settings.livenessWindow) else { return nil }
        return node
    }

    /// The agent's node, or — for an agent no node owns yet — where `place` puts it.
    public func locateOrPlace(_ agent: AgentID) async throws -> ClusterNode {
        if let node = try await locate(agent) { return node }
        return try await place(agent)
    }

    /// The node a new agent `agent` goes to: rendezvous hashing over the live `up` nodes with room.
    /// Throws 503 `NODE_UNAVAILABLE` when none has room.
    public func place(_ agent: AgentID, excluding: Set<String> = []) async throws -> ClusterNode {
        for fresh in [false, true] {
            let candidates = try await nodes(fresh: fresh).filter {
                !excluding.contains($0.id) && $0.hasRoom(window: settings.livenessWindow, minimumFreeDisk: settings.minimumFreeDiskBytes)
            }
            if let chosen = Rendezvous.choose(key: agent.rawValue, among: candidates) { return chosen }
        }
        throw ToolError(.nodeUnavailable, "No node of the cluster can take a new agent now: every node is full, draining or not heartbeating. Add a node, raise --max-agents, or retry shortly.")
    }

    /// Any live node (for routes that belong to no agent: `/v1/tools`, `/openapi.json`, …), preferring
    /// the one rendezvous hashing picks for `key` so that repeated calls reuse connections.
    public func anyLiveNode(key: String = "") async throws -> ClusterNode {
        let live = try await nodes().filter { $0.isAlive(window: settings.livenessWindow) }
        guard let node = Rendezvous.choose(key: key, among: live) else {
            throw ToolError(.nodeUnavailable, "No node of the cluster is heartbeating: start a node (agent-sandbox serve --cluster …) or check that the nodes reach the database.")
        }
        return node
    }

    /// Forgets the cached owner of `agent` (after a move, or a failed connection to its node).
    public func invalidate(_ agent: AgentID) {
        _ = owners.withLock { $0.removeValue(forKey: agent) }
    }

    /// Forgets the node view: the next lookup reads the store.
    public func refreshNodes() {
        nodeView.withLock { $0 = nil }
    }

    /// Records that `agent` lives on `node` (the answer of a create this gateway forwarded).
    public func remember(_ agent: AgentID, _ owner: AgentOwner) {
        owners.withLock { cache in
            if cache.count >= ownerLimit { cache.removeAll(keepingCapacity: true) }
            cache[agent] = (owner, .now)
        }
    }

    private func cachedOwner(_ agent: AgentID) -> AgentOwner? {
        let limit = ownerTime
        return owners.withLock { cache in
            guard let entry = cache[agent] else { return nil }
            return ContinuousClock.now - entry.readAt < limit ? entry.owner : nil
        }
    }

    /// The 503 of an agent whose node is gone.
    public static func unavailable(agent: AgentID, node: String, age: Double?) -> ToolError {
        let since = age.map { " (last heartbeat \(Int($0)) s ago)" } ?? ""
        return ToolError(.nodeUnavailable, "Agent \(agent) lives on node '\(node)', which is not answering\(since). Its files are safe on that node's disk: retry when the node is back, or ask an operator to restart it. Other agents are unaffected.")
    }
}
