#if canImport(Glibc)
import Glibc
#endif
import AgentSandbox
import AgentSandboxHTTP
import ArgumentParser
import Foundation
import SandboxKernel
import Logging

/// `agent-sandbox gateway --cluster postgres://…`: a stateless front for the nodes of a cluster.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Run a stateless cluster gateway: authenticate, place new agents, and proxy every route to the agent's node.")

    @Option(help: "The cluster's PostgreSQL database, postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (env AGENT_SANDBOX_CLUSTER).")
    var cluster: String?

    @Option(help: "Address to listen on (env AGENT_SANDBOX_HOST).")
    var host: String = ProcessInfo.processInfo.environment["AGENT_SANDBOX_HOST"] ?? "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port: Int = 8090

    @Option(help: "Seconds without a heartbeat after which a node counts as unavailable (its agents answer 503 NODE_UNAVAILABLE).")
    var nodeTimeout: Double = 10

    @Option(help: "Seconds a cached agent-to-node answer is trusted (moves through this gateway invalidate it at once).")
    var ownerCache: Double = 5

    @Option(help: "The nodes' --preview-domain: requests for {port}-{agent}.DOMAIN and {link token}.DOMAIN go to the agent's node (env AGENT_SANDBOX_PREVIEW_DOMAIN; point the wildcard DNS record at the gateways).")
    var previewDomain: String?

    @Flag(help: "Send every request through the gateway's routes instead of its fast path for plain agent calls (to compare the two; scripts/bench-gateway).")
    var noFastPath = false

    func run() async throws {
        guard let url = cluster ?? ProcessInfo.processInfo.environment["AGENT_SANDBOX_CLUSTER"], !url.isEmpty else {
            throw ValidationError("--cluster postgres://… is required: the gateway reads nodes, agents and API keys from the cluster's database.")
        }
        guard nodeTimeout > 0, ownerCache >= 0 else { throw ValidationError("--node-timeout must be above 0 and --owner-cache 0 or more") }
        var logger = Logger(label: "agent-sandbox-gateway") { DeferredMetadataLogHandler(label: $0, metadataProvider: .requestID) }
        logger.logLevel = .info
        let store: PostgresStore
        do {
            store = try await PostgresStore.connect(url: url, nodeID: "gateway", node: nil, logger: logger)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("agent-sandbox: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        var timing = ClusterTiming()
        timing.livenessWindow = nodeTimeout
        timing.ownerCacheSeconds = ownerCache
        let catalog = AgentCatalog(directory: store, settings: timing)
        var settings = GatewayServer.Settings()
        settings.host = host
        settings.port = port
        settings.previewDomain = ServerConfiguration.previewDomain(previewDomain ?? ProcessInfo.processInfo.environment["AGENT_SANDBOX_PREVIEW_DOMAIN"])
        settings.fastPath = !noFastPath
        let host = self.host
        do {
            let keys = try await APIKeyAuthority.load(store: store)
            try await GatewayServer.run(catalog: catalog, keys: keys, settings: settings, logger: logger) { port in
                print("agent-sandbox gateway listening on http://\(host):\(port)")
                fflush(nil)
            }
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }
}
