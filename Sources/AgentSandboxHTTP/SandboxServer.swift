#if canImport(Glibc)
import Glibc
#endif
import AgentSandbox
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization

/// Builds and runs the HTTP server over prepared services: one builder serves `agent-sandbox serve` and
/// the tests.
public enum SandboxServer {
    /// Every route of the API (the document served at `GET /openapi.json`, assembled from `schemas/`,
    /// must list exactly these). Middleware, outermost first: the one error mapping, then API-key
    /// authentication for `/v1` and the other APIs' shapes; last, for requests no route matched, 405 with
    /// `Allow` for a known path. `GET` routes answer `HEAD` as well. The request id (echoed on every
    /// reply) is given around the router, by `ConcreteRouterResponder`.
    /// Throws `ConfigurationError` when the OpenAPI files do not assemble into a document.
    public static func buildRouter(services: SandboxServices) throws -> Router<BasicRequestContext> {
        try routes(services: services).router
    }

    /// The router, and the responder of its envelope tool-call route with that route's middleware
    /// (`ConcreteRouterResponder` answers those calls without the router's path matching).
    static func routes(services: SandboxServices) throws -> (router: Router<BasicRequestContext>, envelopeCalls: any HTTPResponder<BasicRequestContext>) {
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: ErrorMiddleware())
        let previewProxy = PreviewProxy(pipeline: services.pipeline, previews: services.previews, keys: services.keys)
        if let domain = services.configuration.previewDomain {
            router.add(middleware: PreviewHostMiddleware(domain: domain, proxy: previewProxy))
        }
        router.add(middleware: AuthMiddleware(keys: services.keys))
        let pipeline = services.pipeline
        let bodyLimit = services.configuration.limits.requestBodyBytes
        let toolRoutes = ToolRoutes(pipeline: pipeline, bodyLimit: bodyLimit)
        toolRoutes.addRoutes(to: router)
        let envelopeCalls = router.middlewares.constructResponder(finalResponder: CallbackResponder { request, _ in
            try await toolRoutes.envelopeCall(request)
        })
        AgentRoutes(agents: services.agents, forks: services.forks).addRoutes(to: router)
        SnapshotRoutes(pipeline: pipeline, snapshots: services.snapshots).addRoutes(to: router)
        WatchRoutes(watches: services.watches).addRoutes(to: router)
        AgentLimitsRoutes(
            update: AgentLimitsUpdate(agents: services.agents, launcher: services.launcher, sessions: services.execSessions), agents: services.agents
        ).addRoutes(to: router)
        ArchiveRoutes(pipeline: pipeline, logger: services.logger).addRoutes(to: router)
        MetaRoutes(schemas: services.schemas, metrics: services.metrics).addRoutes(to: router)
        ShareRoutes(pipeline: pipeline).addRoutes(to: router)
        PreviewRoutes(pipeline: pipeline, previews: services.previews, proxy: previewProxy).addRoutes(to: router)
        ExecRoutes(exec: services.exec, bodyLimit: bodyLimit).addRoutes(to: router)
        AgentSettingsRoutes(exec: services.exec).addRoutes(to: router)
        SeedRoutes(exec: services.exec, bodyLimit: bodyLimit).addRoutes(to: router)
        TerminalRoutes(exec: services.exec, assets: TerminalRoutes.assetDirectory(schemaDirectory: services.configuration.schemaDirectory)).addRoutes(to: router)
        XpanderRoutes(pipeline: pipeline, mcpServers: services.mcpServers, bodyLimit: bodyLimit).addRoutes(to: router)
        try MCPRoutes(pipeline: pipeline, exec: services.exec, bodyLimit: bodyLimit).addRoutes(to: router)
        ClusterNodeRoutes(
            agents: services.agents, moves: services.store as? any AgentMoveStore, snapshots: services.snapshots, shares: services.shares,
            configuration: services.configuration
        ).addRoutes(to: router)
        if let directory = services.store as? any ClusterDirectory {
            NodesRoutes(catalog: AgentCatalog(directory: directory)).addRoutes(to: router)
        } else {
            localNodes(services).addRoutes(to: router)
        }
        let schemaDirectory = services.configuration.schemaDirectory
        DocsRoutes(
            document: try OpenAPIDocument(directory: schemaDirectory, catalog: services.schemas),
            assets: DocsRoutes.assetDirectory(schemaDirectory: schemaDirectory)
        ).addRoutes(to: router)
        router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes.map { ($0.path.description, $0.method) }))
        return (router, envelopeCalls)
    }

    /// `GET /v1/nodes` of a single box: itself, as node `local`.
    static func localNodes(_ services: SandboxServices) -> NodesRoutes {
        let configuration = services.configuration
        let started = Date()
        return NodesRoutes(livenessWindow: .infinity) { [agents = services.agents] in
            let counts = try await agents.countByState()
            let live = counts.filter { $0.key != "deleted" }.values.reduce(0, +)
            return [ClusterNode(
                id: "local", advertiseURL: configuration.publicURL ?? configuration.listenerURL(port: ListeningPort.bound ?? configuration.port),
                maxAgents: configuration.nodeCapacity, freeDiskBytes: NodeHeartbeat.freeBytes(at: configuration.dataRoot.path),
                startedAt: started, heartbeatAt: Date(), agents: live)]
        }
    }

    /// The HTTP application over `services`.
    public static func buildApplication(services: SandboxServices, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let (router, envelopeCalls) = try routes(services: services)
        let (exec, keys) = (services.exec, services.keys)
        let previewUpgrade = PreviewUpgrade(
            proxy: PreviewProxy(pipeline: services.pipeline, previews: services.previews, keys: keys), domain: services.configuration.previewDomain)
        var listener = SandboxListener(configuration: services.configuration, logger: services.logger)
        let (general, terminal, execSocket) = (listener.precheck, TerminalWebSocket.precheck(exec: exec), ExecWebSocket.precheck(keys: keys))
        listener.precheck = { head, expectsContinue in
            (head.headers.contains(name: "upgrade") ? terminal(head) ?? execSocket(head) : nil) ?? general(head, expectsContinue)
        }
        return Application(
            responder: ConcreteRouterResponder(router: router.buildResponder(), envelopeCalls: envelopeCalls),
            server: listener.server(maxFrameSize: 1 << 20) { head, _, _ in
                if TerminalWebSocket.parse(head.path ?? "") != nil { return await TerminalWebSocket.shouldUpgrade(head, exec: exec) }
                if let target = await previewUpgrade.target(head) { return await WebSocketProxy.shouldUpgrade(head, to: target) }
                return await ExecWebSocket.shouldUpgrade(head, exec: exec, keys: keys)
            },
            configuration: .init(address: .hostname(services.configuration.host, port: services.configuration.port), serverName: "agent-sandbox"),
            onServerRunning: { channel in
                ListeningPort.record(channel.localAddress?.port ?? services.configuration.port)
                await onRunning(channel.localAddress?.port ?? services.configuration.port)
            },
            logger: services.logger)
    }

    /// Runs until SIGINT/SIGTERM; flushes the audit log on the way out.
    public static func run(services: SandboxServices, onRunning: @escaping @Sendable (Int) async -> Void) async throws {
        signal(SIGPIPE, SIG_IGN)
        let flusher = Task { await services.audit.runFlushLoop() }
        defer { flusher.cancel() }
        let keyRefresh = Task { await services.keys.runRefreshLoop() }
        defer { keyRefresh.cancel() }
        let sweeper = Task { await services.shares.runSweepLoop() }
        defer { sweeper.cancel() }
        let sessionUpkeep = services.execSessions.startUpkeep()
        defer { sessionUpkeep.cancel() }
        let sandboxUpkeep = Task { await services.launcher.runWarmSandboxUpkeep() }
        defer { sandboxUpkeep.cancel() }
        let heartbeat = Mutex<Task<Void, Never>?>(nil)
        let outcome: Result<Void, any Error>
        do {
            try await buildApplication(services: services) { port in
                await services.listenerBound(port: port)
                heartbeat.withLock { $0 = startHeartbeat(services: services, port: port) }
                await onRunning(port)
            }.runService()
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        // However it ended: the heartbeat stops first (the node must not look alive while it shuts down).
        heartbeat.withLock { $0?.cancel() }
        await services.shutdown()
        if case .failure(let error) = outcome {
            if let error = error as? IOError, error.errnoCode == EADDRINUSE || error.errnoCode == EADDRNOTAVAIL {
                throw services.bindFailure(error.errnoCode)
            }
            throw error
        }
    }
}
