import Foundation

/// Everything `agent-sandbox serve` is configured with; built by the CLI from flags and env vars.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// The data root: one workspace directory per agent, plus the server's own `.agentsandbox/` state.
    public var dataRoot: URL
    /// The JSON Schemas directory (`schemas/` in the repository).
    public var schemaDirectory: URL
    public var uidBase: UInt32 = 200_000
    public var uidCount: UInt32 = 100_000
    /// Base for share URLs; defaults to `http://HOST:PORT`.
    public var publicURL: String?
    /// The admin key from `AGENT_SANDBOX_API_KEY`, if set.
    public var adminKey: String?
    /// Run every command as the server's own uid (development only; no isolation between agents).
    public var allowSharedUID = false
    /// Create an agent on its first tool call.
    public var implicitAgentCreation = true
    /// The `agent-sandbox-exec` helper binary.
    public var execHelper: URL
    public var limits = ResourceLimits()
    /// Sandbox layers for agent processes (default: everything this machine offers).
    public var isolation: IsolationLevel = .full
    /// Under `.full`: fork calls inside a per-agent warm bubblewrap sandbox instead of starting one per call.
    public var warmSandboxes = true
    /// Seconds without calls after which an agent's warm sandbox is stopped (the next call starts it again).
    public var warmSandboxIdleSeconds: Double = 300
    /// Default network mode for new agents (and for agents without one of their own).
    public var network: NetworkPolicy = .isolated
    /// The mode written into agents that predate network modes, when the database is upgraded.
    public var legacyNetwork: NetworkPolicy = .host
    /// Address pool and deny list of `isolated` agents.
    public var isolatedNetwork = IsolatedNetworkSettings()
    /// `--preview-domain`: requests for `{port}-{agent}.DOMAIN` (API key) and `{link token}.DOMAIN` (a
    /// preview link) are proxied to the agent's port at `/`; nil: previews are path-based only.
    public var previewDomain: String?
    /// Timeouts, head limits and connection caps of the HTTP listener.
    public var listener = ListenerLimits()
    /// Each new agent's disk cap (`limits.disk_bytes` default), enforced by a per-agent disk image;
    /// 0: no cap, workspaces are plain directories.
    public var diskBytes: Int64 = 10 << 30
    /// Whether this server can make disk images (root, loop devices, mkfs.ext4: probed at start-up).
    public var diskImages = false
    /// Set: this server is a node of a cluster on PostgreSQL (`--cluster`, `--node-id`).
    public var cluster: ClusterSettings?

    public init(dataRoot: URL, schemaDirectory: URL, execHelper: URL) {
        self.dataRoot = dataRoot
        self.schemaDirectory = schemaDirectory
        self.execHelper = execHelper
    }

    /// The server's own state directory inside the data root (root-only, 0700).
    public var stateDirectory: URL { dataRoot.appendingPathComponent(".agentsandbox", isDirectory: true) }
    public var databasePath: String { stateDirectory.appendingPathComponent("agentsandbox.sqlite").path }

    /// The base URL that share links are built from.
    public var effectivePublicURL: String {
        if let publicURL { return publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL }
        return "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }
}

/// Per-call and per-agent resource limits.
public struct ResourceLimits: Sendable {
    /// Bytes kept per output stream of a command (head + tail).
    public var outputBytes = 1 << 20
    /// Largest accepted request body.
    public var requestBodyBytes = 10 << 20
    /// Default and largest bash timeout, seconds.
    public var defaultTimeout = 300
    /// Tasks per agent (cgroup `pids.max`; also `RLIMIT_NPROC` per uid).
    public var pidsPerAgent = 256
    /// Memory per agent (cgroup), bytes.
    public var memoryPerAgent: Int64 = 1 << 30
    /// Open files per process.
    public var openFiles = 4096
    /// Largest file a process may write, bytes.
    public var fileSizeBytes: Int64 = 8 << 30
    /// Concurrent tool calls per agent before 429.
    public var concurrentCallsPerAgent = 16
    /// Relative CPU weight per agent (cgroup cpu.weight / cpu.shares scale: 100 = one default share).
    public var cpuWeight = 100
    /// Largest file `file_share` publishes, bytes.
    public var shareBytes: Int64 = 1 << 30
    /// Shares one agent may hold (expired ones count until removed).
    public var sharesPerAgent = 100
    /// Bytes of distinct shared content one agent may hold (see `ShareUsage`).
    public var shareBytesPerAgent: Int64 = 1 << 30
    /// Largest archive import: bytes of file content after decompression (a bomb stops here).
    public var archiveImportBytes: Int64 = 512 << 20
    /// Most entries an imported archive may hold.
    public var archiveImportEntries = 200_000
    /// Largest archive upload (the request body as sent): the content limit plus room for headers.
    public var archiveBodyBytes: Int64 { archiveImportBytes + Int64(archiveImportEntries) * 2048 }
    /// Running exec sessions per agent before 429.
    public var execSessionsPerAgent = 8
    /// Output kept per stream of an exec session (ring buffer), bytes.
    public var execBufferBytes = 1 << 20
    /// Seconds a finished exec session stays listed (with its output) before it is forgotten.
    public var execRetentionSeconds: Double = 600
    /// Finished exec sessions kept per agent (oldest forgotten first), so memory stays bounded.
    public var execFinishedPerAgent = 32
    /// Snapshots one agent may hold (`SNAPSHOT_QUOTA_EXCEEDED` past it).
    public var snapshotsPerAgent = 20
    /// Stored (compressed) bytes of one agent's snapshots.
    public var snapshotBytesPerAgent: Int64 = 5 << 30
    /// Directories one agent's watch streams may watch together (inotify watches).
    public var watchedDirectoriesPerAgent = 8192
    /// Watch streams open at once per agent (429 past it).
    public var watchStreamsPerAgent = 8

    public init() {}
}

/// A configuration problem found at start-up, with a sentence that says how to fix it.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
