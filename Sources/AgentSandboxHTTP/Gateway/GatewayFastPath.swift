import AgentSandbox
import Hummingbird
import NIOCore
import NIOHTTP1
import Synchronization

/// The gateway's fast path for plain agent calls (a tool call, a file read): a `FastPathHandler` in
/// each client connection's pipeline, right after the HTTP codec, relays the request to the agent's node
/// over a kept-alive connection of the same event loop (`FastPathPool`) and the answer back as it comes
/// — no task, no async stream, no thread hop, none of the router's per-request work.
///
/// It takes only what it can decide from the head without waiting (`plan(for:on:)`); everything else
/// passes on untouched to the Hummingbird routes (`GatewayForwarder`), which also take over a call the
/// fast path started when something went wrong before the first byte of the answer was relayed — the
/// node could not be reached, a pooled connection was stale, or the node no longer owns the agent
/// (409 with `Retry-After`). This object is shared by every connection.
final class GatewayFastPath: Sendable {
    let catalog: AgentCatalog
    let keys: APIKeyAuthority
    let moves: MoveGuard
    let proxy: GatewayProxy
    let pools: FastPathPools
    let counters: GatewayFastPathCounters
    /// The `Server` field of the answers (as Hummingbird's `serverName`).
    let serverName: String
    /// Requests for hosts under it are agents' apps (`GatewayPreviewHost`): left to the routes.
    let previewDomain: String?
    /// Request bodies up to this size (declared by `Content-Length`) take the fast path.
    static let bodyLimit = 64 << 10
    /// How long the node may take to send its response head (as `ProxyTarget.responseTimeout`).
    static let responseTimeout = TimeAmount.seconds(300)

    init(
        catalog: AgentCatalog, keys: APIKeyAuthority, moves: MoveGuard, proxy: GatewayProxy, counters: GatewayFastPathCounters, serverName: String,
        previewDomain: String? = nil
    ) {
        self.catalog = catalog
        self.keys = keys
        self.moves = moves
        self.proxy = proxy
        self.pools = FastPathPools()
        self.counters = counters
        self.serverName = serverName
        self.previewDomain = previewDomain
    }

    /// A call the fast path takes: the agent, its node and where its connections come from.
    struct Plan {
        let agent: AgentID
        let node: ClusterNode
        /// The request target with the agent id in its canonical form.
        let path: String
        let pool: FastPathPool
        let address: FastPathPool.Address
    }

    /// The plan for a request with this head, or nil when the Hummingbird routes must answer it: not an
    /// agent's route (or a preview host's), one the gateway answers itself, HTTP/1.0 or `Connection:
    /// close`, a body that is streamed (chunked, over `bodyLimit`) or waits for `100 Continue`, an
    /// upgrade, a key that is missing or not known in memory (the routes answer 401, or look a new key up
    /// in the store), an agent being moved, or an owner the catalog would have to read from the store.
    /// It reads NIO's head as the codec made it: the fast path never converts a head to `HTTPRequest`.
    func plan(for head: HTTPRequestHead, on loop: any EventLoop) -> Plan? {
        let headers = head.headers
        guard head.version == .http1_1, head.method != .HEAD, head.method != .CONNECT, head.isKeepAlive,
            !headers.contains(name: "transfer-encoding"), !headers.contains(name: "upgrade"), !headers.contains(name: "expect")
        else { return nil }
        let lengths = headers["content-length"]
        if !lengths.isEmpty {
            guard lengths.count == 1, let length = Int(lengths[0]), length <= Self.bodyLimit else { return nil }
        }
        if previewDomain != nil, GatewayPreviewHost.destination(host: headers.first(name: "host"), target: head.uri, domain: previewDomain) != nil {
            return nil
        }
        guard case .agent(let reference, let path) = GatewayPath.destination(of: head.uri),
            // Of an agent's routes the gateway answers only POST …/move itself.
            head.method != .POST || !GatewayForwardMiddleware<BasicRequestContext>.isLocal(method: .post, path: GatewayPath.split(head.uri).path),
            let presented = APIKeyAuthority.presentedKey(apiKey: headers.first(name: "x-api-key"), authorization: headers.first(name: "authorization")),
            keys.isKnown(presented),
            !moves.isMoving(reference.agent),
            let node = catalog.cachedLocation(of: reference.agent),
            let pool = pools.pool(for: loop), let address = pool.address(of: node)
        else { return nil }
        return Plan(agent: reference.agent, node: node, path: path, pool: pool, address: address)
    }

    /// What the slow path does when a node does not answer (`GatewayForwarder.send`): forget its
    /// connections and the agent's cached owner, re-read the nodes; the agent's 503.
    func nodeFailed(_ plan: Plan) -> ToolError {
        plan.pool.drop(plan.address.key)
        proxy.forget(plan.node)
        catalog.refreshNodes()
        catalog.invalidate(plan.agent)
        return AgentCatalog.unavailable(agent: plan.agent, node: plan.node.id, age: plan.node.heartbeatAge())
    }

    /// What a new client connection's pipeline gets: it installs a `FastPathHandler` in its place.
    func makeHandler() -> FastPathHandler.Installer {
        FastPathHandler.Installer(handler: FastPathHandler(fastPath: self))
    }

    /// Closes the idle connections of every loop.
    func shutdown() {
        pools.shutdown()
    }
}

/// How often the gateway's fast path ran (read by tests and benchmarks in the gateway's process).
public final class GatewayFastPathCounters: Sendable {
    private let answeredCount = Atomic<Int>(0)
    private let handedBackCount = Atomic<Int>(0)

    public init() {}

    /// Calls the fast path answered itself (the node's answer, or its 503 when the node broke off).
    public var answered: Int { answeredCount.load(ordering: .relaxed) }
    /// Calls the fast path started and handed to the Hummingbird routes (node unreachable, stale
    /// connection, stale owner).
    public var handedBack: Int { handedBackCount.load(ordering: .relaxed) }

    func countAnswered() { answeredCount.add(1, ordering: .relaxed) }
    func countHandedBack() { handedBackCount.add(1, ordering: .relaxed) }
}
