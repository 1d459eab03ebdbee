import Foundation
import Logging
import SandboxKernel

/// The server's long-lived services, built once at start-up (`SandboxServices.prepare`). Entry points take
/// the parts they use; every call goes through `pipeline`.
public struct SandboxServices: Sendable {
    /// The one call path: admission, validation, run, error mapping, audit, metrics.
    public let pipeline: CallPipeline
    public let store: Store
    public let execSessions: ExecSessionManager
    public let keys: APIKeyAuthority
    public let logger: Logger
    /// The stdio MCP servers agents run in their sandboxes (xpander's `mcp_*` tools), kept warm.
    public let mcpServers: SandboxMCPServers
    /// Live file-event streams of workspaces (ended when their agent is deleted).
    public let watches: WatchService
    /// The nftables rule that keeps agents off the server's own port (installed once the port is bound).
    let listenerFirewall = ListenerFirewall.Slot()

    public init(pipeline: CallPipeline, store: Store, execSessions: ExecSessionManager, keys: APIKeyAuthority, logger: Logger) {
        self.pipeline = pipeline
        self.store = store
        self.execSessions = execSessions
        self.keys = keys
        self.logger = logger
        mcpServers = SandboxMCPServers(pipeline: pipeline, sessions: execSessions)
        watches = WatchService(pipeline: pipeline)
    }

    public var configuration: ServerConfiguration { pipeline.configuration }
    public var agents: AgentRegistry { pipeline.agents }
    public var tools: ToolRegistry { pipeline.tools }
    public var schemas: SchemaCatalog { pipeline.schemas }
    public var launcher: ProcessLauncher { pipeline.launcher }
    public var shares: ShareService { pipeline.shares }
    public var audit: AuditLog { pipeline.audit }
    public var metrics: Metrics { pipeline.metrics }

    /// The exec operations, through the pipeline.
    public var exec: ExecService { ExecService(pipeline: pipeline, sessions: execSessions) }

    /// Snapshots of workspaces (stored under the state directory).
    public var snapshots: SnapshotService {
        SnapshotService(store: store, agents: agents, configuration: configuration, blobs: Self.snapshotBlobs(configuration))
    }

    /// New agents copied from an agent or a snapshot.
    public var forks: ForkService { ForkService(pipeline: pipeline, snapshots: snapshots) }

    /// The file-system blob store of snapshots: `<state>/snapshots/`.
    static func snapshotBlobs(_ configuration: ServerConfiguration) -> FileSnapshotBlobStore {
        FileSnapshotBlobStore(root: configuration.stateDirectory.appendingPathComponent("snapshots").path)
    }

    /// The workspace of `agent`, ready for tools.
    public func workspace(for agent: Agent) -> Workspace { pipeline.workspace(for: agent) }
}
