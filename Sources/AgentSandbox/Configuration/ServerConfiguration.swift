import Foundation
import SandboxKernel

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

    /// A `--preview-domain` as given (`.example.com` or `Example.com`) in the form hosts are compared
    /// with: lower case, no leading dot; nil when empty.
    public static func previewDomain(_ given: String?) -> String? {
        given.map { $0.hasPrefix(".") ? String($0.dropFirst()) : $0 }.flatMap { $0.isEmpty ? nil : $0.lowercased() }
    }

    /// Timeouts, head limits and connection caps of the HTTP listener.
    public var listener = ListenerLimits()
    /// Each new agent's disk cap (`limits.disk_bytes` default), enforced by a per-agent disk image;
    /// 0: no cap, workspaces are plain directories.
    public var diskBytes: Int64 = 10 << 30
    /// Seconds an agent's disk image stays mounted after its last use (`DiskMounts`); 0: every image is
    /// mounted at start-up and stays mounted.
    public var diskIdleSeconds: Double = 60
    /// Whether this server can make disk images (root, loop devices, mkfs.ext4), probed when first
    /// needed; set up at start-up (`SandboxServices.detectDiskImages`).
    public var diskImages = DiskImageSupport(stateDirectory: "/nonexistent", refusal: "disk images were not set up")
    /// Empty images of the default cap made ahead (nil: caps off or images unavailable), so a capped
    /// create need not run mkfs.ext4; set up at start-up with `diskImages`.
    public var diskImagePool: DiskImagePool?
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

    /// Where this server is reached on `port` by the machine itself: a wildcard host becomes 127.0.0.1,
    /// an IPv6 host goes in brackets.
    public func listenerURL(port: Int) -> String {
        let reachable = ["0.0.0.0", "::", ""].contains(host) ? "127.0.0.1" : host
        return "http://\(reachable.contains(":") ? "[\(reachable)]" : reachable):\(port)"
    }

    /// Most live agents a gateway places on this node: `--max-agents`, else one per uid of the range.
    public var nodeCapacity: Int { cluster?.maxAgents ?? Int(uidCount) }

    /// The base URL that share links are built from.
    public var effectivePublicURL: String {
        if let publicURL { return publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL }
        return "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }
}
