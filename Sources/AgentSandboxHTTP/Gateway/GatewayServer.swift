#if canImport(Glibc)
import Glibc
#endif
import AgentSandbox
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore

/// `agent-sandbox gateway`: a stateless front for a cluster. It keeps nothing of its own — API keys,
/// nodes and agent owners come from the shared store — so any number of gateways can run behind any
/// load balancer, and one restarted loses nothing.
///
/// It answers itself only `GET /healthz`, `GET /v1/nodes` (`/clusters`), `POST /v1/agents` (placement)
/// `GET /v1/agents` (merged from every node) and `POST /v1/agents/{id}/move`; every other request is authenticated here (routes that
/// need a key) and proxied, streamed both ways, to the node that owns it (`GatewayForwarder`).
public enum GatewayServer {
    /// The gateway's settings: where it listens.
    public struct Settings: Sendable {
        public var host = "127.0.0.1"
        public var port = 8090
        /// The nodes' `--preview-domain`: hosts under it are agents' apps (`GatewayPreviewHostMiddleware`).
        public var previewDomain: String?
        /// Plain agent calls take the channel-handler fast path (`GatewayFastPath`); off, every request
        /// goes through the routes (`--no-fast-path`, for comparisons).
        public var fastPath = true
        /// Counts what the fast path did (tests and benchmarks read it).
        public var fastPathCounters = GatewayFastPathCounters()
        public init() {}
    }

    static let serverName = "agent-sandbox-gateway"

    public static func buildRouter(catalog: AgentCatalog, keys: APIKeyAuthority, logger: Logger, pool: UpstreamPool = UpstreamPool(),
                                   previewDomain: String? = nil) -> Router<BasicRequestContext> {
        buildRouter(catalog: catalog, keys: keys, logger: logger, proxy: GatewayProxy(pool: pool), moves: MoveGuard(), previewDomain: previewDomain)
    }

    /// `moves`: shared with the fast path, which leaves calls for an agent being moved to the routes.
    static func buildRouter(
        catalog: AgentCatalog, keys: APIKeyAuthority, logger: Logger, proxy: GatewayProxy, moves: MoveGuard, previewDomain: String?
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let forwarder = GatewayForwarder(catalog: catalog, proxy: proxy, moves: moves)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: ErrorMiddleware())
        if let previewDomain { router.add(middleware: GatewayPreviewHostMiddleware(domain: previewDomain, forwarder: forwarder)) }
        router.add(middleware: AuthMiddleware(keys: keys, alsoGuarded: ["clusters"]))
        router.add(middleware: GatewayForwardMiddleware(forwarder: forwarder))
        router.get("/healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: MetaRoutes.healthy))
        }
        NodesRoutes(catalog: catalog).addRoutes(to: router)
        GatewayAgentRoutes(catalog: catalog, forwarder: forwarder).addRoutes(to: router)
        let move = GatewayMove(catalog: catalog, forwarder: forwarder, guardian: moves)
        move.addRoutes(to: router)
        GatewayDrain(catalog: catalog, move: move).addRoutes(to: router)
        return router
    }

    /// Runs until SIGINT/SIGTERM.
    public static func run(catalog: AgentCatalog, keys: APIKeyAuthority, settings: Settings, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void) async throws {
        signal(SIGPIPE, SIG_IGN)
        let keyRefresh = Task { await keys.runRefreshLoop() }
        // Kept-alive connections to the nodes, closed when the gateway stops.
        let pool = UpstreamPool()
        let (proxy, moves) = (GatewayProxy(pool: pool), MoveGuard())
        let fastPath = GatewayFastPath(
            catalog: catalog, keys: keys, moves: moves, proxy: proxy, counters: settings.fastPathCounters, serverName: serverName, previewDomain: settings.previewDomain)
        defer {
            keyRefresh.cancel()
            pool.shutdown()
            fastPath.shutdown()
        }
        let fastPathOn = settings.fastPath
        let app = Application(
            router: buildRouter(catalog: catalog, keys: keys, logger: logger, proxy: proxy, moves: moves, previewDomain: settings.previewDomain),
            server: .http1WebSocketUpgrade(configuration: .init(http1: .init(additionalChannelHandlers: fastPathOn ? [fastPath.makeHandler()] : []), ws: .init(maxFrameSize: WebSocketProxy.maxFrameSize))) { head, _, _ in
                // Exec and terminal sockets: relayed frame by frame to the agent's node, which checks the
                // credentials itself; a refused handshake falls through to the route (the node's answer).
                guard let target = try? await webSocketTarget(head, catalog: catalog, previewDomain: settings.previewDomain) else { return .dontUpgrade }
                return await WebSocketProxy.shouldUpgrade(head, to: target)
            },
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: serverName),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? settings.port) },
            logger: logger)
        try await app.runService()
    }
}

extension GatewayServer {
    /// The node a WebSocket upgrade goes to: the owner of the agent its path names.
    /// An app's socket on a preview host goes to the node of its agent or link (`GatewayPreviewHost`).
    static func webSocketTarget(_ head: HTTPRequest, catalog: AgentCatalog, previewDomain: String? = nil) async throws -> ProxyTarget? {
        switch GatewayPreviewHost.destination(of: head, domain: previewDomain) ?? GatewayPath.destination(of: head.path ?? "") {
        case .agent(let reference, let path):
            guard let node = try await catalog.locate(reference.agent) else { return nil }
            return try GatewayProxy.target(node, path: path)
        case .preview(let token, let path):
            guard let agent = try await catalog.directory.previewLinkAgent(token: token), let node = try await catalog.locate(agent) else { return nil }
            return try GatewayProxy.target(node, path: path)
        case .share, .anyNode:
            return nil
        }
    }
}

/// Forwards every request the gateway does not answer itself (see `GatewayServer`), before routing.
struct GatewayForwardMiddleware<Context: RequestContext>: RouterMiddleware {
    let forwarder: GatewayForwarder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.isLocal(method: request.method, path: request.uri.path) { return try await next(request, context) }
        return try await forwarder.forward(request, context: context)
    }

    static func isLocal(method: HTTPRequest.Method, path: String) -> Bool {
        let trimmed = path.utf8.count > 1 && path.utf8.last == UInt8(ascii: "/") ? String(path.dropLast()) : path
        switch (method, trimmed) {
        case (.get, "/healthz"), (.get, "/v1/nodes"), (.get, "/clusters"), (.post, "/v1/agents"), (.get, "/v1/agents"): return true
        case (.head, "/healthz"): return true
        case (.post, _):
            // POST /v1/agents/{id}/move, POST /v1/nodes/{node}/drain (empty segments ignored). Every proxied
            // POST asks (a tool call on every call): the last segment rules most out before the path is split.
            let end = trimmed.utf8.lastIndex(where: { $0 != UInt8(ascii: "/") }).map { trimmed[...$0] } ?? trimmed[...]
            guard end.hasSuffix("/move") || end.hasSuffix("/drain") else { return false }
            let segments = GatewayPath.segments(of: trimmed).filter { !$0.isEmpty }
            guard segments.count == 4, segments[0] == "v1" else { return false }
            return (segments[1] == "agents" && segments[3] == "move") || (segments[1] == "nodes" && segments[3] == "drain")
        default: return false
        }
    }
}
