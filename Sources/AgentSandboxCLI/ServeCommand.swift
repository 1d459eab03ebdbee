#if canImport(Glibc)
import Glibc
#endif
import AgentSandbox
import AgentSandboxHTTP
import ArgumentParser
import Foundation
import Logging
import Tools
import SandboxKernel

/// `agent-sandbox serve`: runs the HTTP server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP server.")

    @Option(help: "Address to listen on (env AGENT_SANDBOX_HOST).")
    var host: String = ProcessInfo.processInfo.environment["AGENT_SANDBOX_HOST"] ?? "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one (env AGENT_SANDBOX_PORT).")
    var port: Int = Int(ProcessInfo.processInfo.environment["AGENT_SANDBOX_PORT"] ?? "") ?? 8080

    @Option(name: .customLong("data"), help: "Data root: workspaces and server state (env AGENT_SANDBOX_DATA; default: the repository's workspaces/).")
    var dataRoot: String?

    @Option(help: "First uid (and gid) given to agents.")
    var uidBase: UInt32 = 200_000

    @Option(help: "How many uids agents may use.")
    var uidCount: UInt32 = 100_000

    @Option(help: "Base URL for share links (env AGENT_SANDBOX_PUBLIC_URL; default http://HOST:PORT).")
    var publicURL: String?

    @Option(help: "Domain for host-based previews: {port}-{agent}.DOMAIN (API key) and {link token}.DOMAIN serve an agent's port at / (env AGENT_SANDBOX_PREVIEW_DOMAIN; point a wildcard DNS record at this server).")
    var previewDomain: String?

    @Option(help: "Directory of the JSON Schemas (default: the repository's schemas/).")
    var schemas: String?

    @Option(help: "Bytes kept per output stream of a command.")
    var outputLimit: Int = 1 << 20

    @Option(help: "Concurrent tool calls per agent before 429.")
    var maxConcurrentCalls: Int = 16

    @Option(help: "Sandbox layers: uid, cgroup, or full (cgroup + bubblewrap namespaces).")
    var isolation: String = "full"

    @Option(help: "Default network mode for new agents: isolated (own namespace, NAT to the internet; the host, private ranges and other agents refused), none (loopback only) or host (the host's network: trusted agents only). Default: isolated. Agents created before network modes existed keep this value if given, else host.")
    var network: String?
    @Option(help: "Address pool of isolated agents: one /31 each (shared by every server on this host).")
    var networkPool: String = "10.200.0.0/16"
    @Option(help: "Comma-separated IPv4 ranges isolated agents may not reach, replacing the default (0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.168/16, 224/4, 240/4). The host itself, the pool and other agents are always refused.")
    var networkDeny: String?
    @Option(help: "Default egress allow list of isolated agents without their own (repeatable, or comma-separated): CIDR, address or host name, with an optional :port or :port-range. Non-empty: only these are reachable (env AGENT_SANDBOX_EGRESS_ALLOW).")
    var egressAllow: [String] = []
    @Option(help: "Default egress deny list (same entries; deny wins over allow) (env AGENT_SANDBOX_EGRESS_DENY).")
    var egressDeny: [String] = []
    @Flag(help: "Let an explicit egress allow entry open a range of the deny list (RFC 1918, 100.64/10, 169.254/16, …), e.g. an internal package mirror. The host itself, the pool and other agents stay refused (env AGENT_SANDBOX_EGRESS_ALLOW_PRIVATE=1).")
    var egressAllowPrivate = false
    @Option(help: "Nameserver (ADDRESS or ADDRESS:PORT) that egress host names are looked up at (default: the first IPv4 nameserver of /etc/resolv.conf).")
    var egressNameserver: String?
    @Option(help: ArgumentHelp("How isolated agents' namespaces are made: helper (one process) or iproute2 (unshare + ip; for benchmarks).", visibility: .hidden))
    var networkMaker: String = "helper"
    @Option(help: "Largest file a share may publish, bytes.")
    var shareSizeLimit: Int64 = 1 << 30
    @Option(help: "Shares one agent may hold (beyond it file_share answers SHARE_QUOTA_EXCEEDED).")
    var maxSharesPerAgent: Int = 100
    @Option(help: "Bytes of distinct content one agent's shares may hold.")
    var shareBytesPerAgent: Int64 = 1 << 30
    @Option(help: "Largest archive import, bytes of content after decompression (env AGENT_SANDBOX_ARCHIVE_MAX_BYTES).")
    var archiveMaxBytes: Int64 = Int64(ProcessInfo.processInfo.environment["AGENT_SANDBOX_ARCHIVE_MAX_BYTES"] ?? "") ?? 512 << 20

    @Option(help: "Most entries an imported archive may hold.")
    var archiveMaxEntries: Int = 200_000
    @Option(help: "Running exec sessions per agent before 429.")
    var maxExecSessions: Int = 8

    @Option(help: "Seconds a finished exec session (and its buffered output) stays listed.")
    var execRetention: Double = 600

    @Option(help: "Snapshots one agent may hold (beyond it a snapshot answers SNAPSHOT_QUOTA_EXCEEDED).")
    var maxSnapshotsPerAgent: Int = 20
    @Option(help: "Stored (compressed) bytes one agent's snapshots may hold.")
    var snapshotBytesPerAgent: Int64 = 5 << 30
    @Option(help: "Directories one agent's watch streams may watch together (inotify watches).")
    var maxWatchedDirectories: Int = 8192
    @Option(help: "Watch streams open at once per agent (429 past it).")
    var maxWatchStreams: Int = 8

    @Flag(help: "Run every command as the server's own uid (no isolation between agents; development only).")
    var allowSharedUID = false

    @Flag(inversion: .prefixedEnableDisable, help: "Create agents on their first tool call.")
    var implicitAgents = true

    @Flag(inversion: .prefixedEnableDisable, help: "Under full isolation, keep one bubblewrap sandbox per agent warm and fork calls inside it (disable: a fresh bubblewrap per call).")
    var warmSandboxes = true

    @Option(help: "Seconds without calls after which an agent's warm sandbox stops (its /tmp goes with it).")
    var warmSandboxIdle: Double = 300

    @Option(help: "Each new agent's disk cap (limits.disk_bytes default), enforced by a per-agent ext4 image; bytes, or with K/M/G/T; 0: no cap (env AGENT_SANDBOX_DISK_BYTES).")
    var diskBytes: String = ProcessInfo.processInfo.environment["AGENT_SANDBOX_DISK_BYTES"] ?? "10G"

    @Option(help: "Seconds an agent's disk image stays mounted after its last use (mounted again on the next); 0: every image stays mounted.")
    var diskIdle: Double = 60

    @Option(help: "Seconds a client has to send a request head once it started (408 and close after).")
    var headerTimeout: Double = 10

    @Option(help: "Seconds a connection may stay open with no request under way.")
    var idleTimeout: Double = 30

    @Option(help: "Most open connections (default: a quarter of the open-file limit, at most 16384).")
    var maxConnections: Int?

    @Option(help: "Most open connections from one peer address (default: a quarter of --max-connections).")
    var maxConnectionsPerPeer: Int?

    @Option(help: "Run as a node of a cluster whose shared state is this PostgreSQL database, postgres://user[:password]@host[:port]/database (env AGENT_SANDBOX_CLUSTER; default: a single box on an embedded SQLite file).")
    var cluster: String?

    @Option(help: "Where gateways reach this node, http://HOST:PORT (cluster only; default: this listener's address).")
    var advertiseURL: String?
    @Option(help: "Most live agents a gateway places on this node (cluster only; default: --uid-count).")
    var maxAgents: Int?
    @Option(help: "Seconds between this node's heartbeats in the cluster's database.")
    var heartbeatInterval: Double = 2

    @Option(help: "This node's name in the cluster (letters, digits, '-', '_'; env AGENT_SANDBOX_NODE_ID; required with --cluster).")
    var nodeId: String?

    func run() async throws {
        LargeBufferReuse.apply()
        let environment = ProcessInfo.processInfo.environment
        let dataRoot = self.dataRoot ?? environment["AGENT_SANDBOX_DATA"]
        let publicURL = self.publicURL ?? environment["AGENT_SANDBOX_PUBLIC_URL"]
        let locations = Locations.discover()
        var configuration = ServerConfiguration(
            dataRoot: URL(fileURLWithPath: dataRoot ?? locations.repository.appendingPathComponent("workspaces").path).standardizedFileURL,
            schemaDirectory: schemas.map { URL(fileURLWithPath: $0) } ?? locations.repository.appendingPathComponent("schemas"),
            execHelper: locations.executableDirectory.appendingPathComponent("agent-sandbox-exec"))
        configuration.host = host
        configuration.port = port
        configuration.uidBase = uidBase
        configuration.uidCount = uidCount
        configuration.publicURL = publicURL
        configuration.previewDomain = ServerConfiguration.previewDomain(previewDomain ?? environment["AGENT_SANDBOX_PREVIEW_DOMAIN"])
        configuration.allowSharedUID = allowSharedUID
        configuration.implicitAgentCreation = implicitAgents
        configuration.limits.outputBytes = outputLimit
        configuration.limits.concurrentCallsPerAgent = maxConcurrentCalls
        guard let level = IsolationLevel(rawValue: isolation) else { throw ValidationError("--isolation must be uid, cgroup or full") }
        guard let policy = NetworkPolicy(rawValue: network ?? "isolated") else { throw ValidationError("--network must be isolated, none or host") }
        guard let pool = IPv4Network(networkPool), pool.prefixLength <= 30 else { throw ValidationError("--network-pool must be an IPv4 range of /30 or larger, such as 10.200.0.0/16") }
        configuration.isolatedNetwork.pool = pool
        if let networkDeny {
            let ranges = networkDeny.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let parsed = ranges.compactMap(IPv4Network.init)
            guard parsed.count == ranges.count else { throw ValidationError("--network-deny must be comma-separated IPv4 ranges such as 10.0.0.0/8,192.168.0.0/16") }
            configuration.isolatedNetwork.deny = parsed
        }
        configuration.legacyNetwork = network.flatMap(NetworkPolicy.init(rawValue:)) ?? .host
        let allow = egressAllow.isEmpty ? [environment["AGENT_SANDBOX_EGRESS_ALLOW"] ?? ""] : egressAllow
        let deny = egressDeny.isEmpty ? [environment["AGENT_SANDBOX_EGRESS_DENY"] ?? ""] : egressDeny
        switch EgressPolicy.parse(allow: allow, deny: deny) {
        case .success(let policy): configuration.isolatedNetwork.egress = policy
        case .failure(let error):
            throw ValidationError("--egress-allow / --egress-deny: \(error.message.replacingOccurrences(of: "`egress.", with: "`"))")
        }
        configuration.isolatedNetwork.allowPrivateEgress = egressAllowPrivate || ["1", "true", "yes"].contains(environment["AGENT_SANDBOX_EGRESS_ALLOW_PRIVATE"]?.lowercased() ?? "")
        guard ["helper", "iproute2"].contains(networkMaker) else { throw ValidationError("--network-maker must be helper or iproute2") }
        configuration.isolatedNetwork.iproute2Maker = networkMaker == "iproute2"
        if let egressNameserver {
            let parts = egressNameserver.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2, IPv4Network.parseAddress(String(parts[0])) != nil, let port = parts.count == 2 ? UInt16(parts[1]) : 53, port > 0 else {
                throw ValidationError("--egress-nameserver must be an IPv4 address with an optional :port, such as 127.0.0.53 or 10.0.0.2:53")
            }
            configuration.isolatedNetwork.egressNameserver = (String(parts[0]), port)
        }
        guard warmSandboxIdle > 0 else { throw ValidationError("--warm-sandbox-idle must be a number of seconds above 0") }
        configuration.isolation = level
        configuration.warmSandboxes = warmSandboxes
        configuration.warmSandboxIdleSeconds = warmSandboxIdle
        guard diskIdle >= 0 else { throw ValidationError("--disk-idle must be 0 (never unmount) or a number of seconds") }
        configuration.diskIdleSeconds = diskIdle
        configuration.network = policy
        configuration.limits.shareBytes = shareSizeLimit
        guard maxSharesPerAgent >= 0, shareBytesPerAgent >= 0 else { throw ValidationError("--max-shares-per-agent and --share-bytes-per-agent must be 0 or more") }
        configuration.limits.sharesPerAgent = maxSharesPerAgent
        configuration.limits.shareBytesPerAgent = shareBytesPerAgent
        configuration.limits.archiveImportBytes = archiveMaxBytes
        configuration.limits.archiveImportEntries = archiveMaxEntries
        configuration.limits.execSessionsPerAgent = maxExecSessions
        configuration.limits.execRetentionSeconds = execRetention
        guard maxSnapshotsPerAgent >= 0, snapshotBytesPerAgent >= 0, maxWatchedDirectories >= 1, maxWatchStreams >= 1 else {
            throw ValidationError("--max-snapshots-per-agent and --snapshot-bytes-per-agent must be 0 or more; --max-watched-directories and --max-watch-streams 1 or more")
        }
        configuration.limits.snapshotsPerAgent = maxSnapshotsPerAgent
        configuration.limits.snapshotBytesPerAgent = snapshotBytesPerAgent
        configuration.limits.watchedDirectoriesPerAgent = maxWatchedDirectories
        configuration.limits.watchStreamsPerAgent = maxWatchStreams
        guard headerTimeout > 0, idleTimeout > 0 else { throw ValidationError("--header-timeout and --idle-timeout must be numbers of seconds above 0") }
        guard (maxConnections ?? 1) > 0, (maxConnectionsPerPeer ?? 1) > 0 else { throw ValidationError("--max-connections and --max-connections-per-peer must be above 0") }
        guard let disk = ByteCount.parse(diskBytes), disk == 0 || disk >= DiskImage.minimumBytes, disk <= AgentSettings.maxDiskBytes else {
            throw ValidationError("--disk-bytes must be 0 (no cap) or between 16M and 8T")
        }
        configuration.diskBytes = disk
        configuration.listener.headerTimeoutSeconds = headerTimeout
        configuration.listener.idleTimeoutSeconds = idleTimeout
        configuration.listener.maxConnections = maxConnections
        configuration.listener.maxConnectionsPerPeer = maxConnectionsPerPeer
        if let cluster = cluster ?? environment["AGENT_SANDBOX_CLUSTER"] {
            guard let node = nodeId ?? environment["AGENT_SANDBOX_NODE_ID"], !node.isEmpty else {
                throw ValidationError("--cluster needs --node-id NAME (or AGENT_SANDBOX_NODE_ID): the name of this node in the cluster")
            }
            var settings = ClusterSettings(url: cluster, nodeID: node)
            guard heartbeatInterval > 0, (maxAgents ?? 1) >= 0 else { throw ValidationError("--heartbeat-interval must be above 0 and --max-agents 0 or more") }
            if let advertiseURL, URL(string: advertiseURL)?.host == nil { throw ValidationError("--advertise-url must be an http://HOST:PORT URL") }
            settings.advertiseURL = advertiseURL
            settings.maxAgents = maxAgents
            settings.heartbeatInterval = heartbeatInterval
            configuration.cluster = settings
        } else if nodeId != nil {
            throw ValidationError("--node-id is only meaningful with --cluster postgres://…")
        }
        configuration.adminKey = ProcessInfo.processInfo.environment["AGENT_SANDBOX_API_KEY"]
        // The key and our own settings stay in this process: children get an explicit environment anyway.
        for name in ProcessInfo.processInfo.environment.keys where name.hasPrefix("AGENT_SANDBOX_") { unsetenv(name) }

        var logger = Logger(label: "agent-sandbox") { DeferredMetadataLogHandler(label: $0, metadataProvider: .requestID) }
        logger.logLevel = .info
        let services: SandboxServices
        let generatedKey: String?
        do {
            (services, generatedKey) = try await SandboxServices.prepare(configuration: configuration, tools: StandardTools.registry(), logger: logger)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("agent-sandbox: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        if let generatedKey {
            print("""
                ================================================================
                Generated admin API key (shown once, stored hashed):
                  \(generatedKey)
                Send it as the x-api-key header. Set AGENT_SANDBOX_API_KEY to choose your own.
                ================================================================
                """)
        }
        logger.info("data root \(configuration.dataRoot.path)")
        let host = configuration.host
        do {
            try await SandboxServer.run(services: services) { port in
                print("agent-sandbox listening on http://\(host):\(port)")
                fflush(nil)
            }
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("agent-sandbox: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// Where the binary and the repository are: defaults for `--data` and `--schemas`.
struct Locations {
    let executableDirectory: URL
    let repository: URL

    static func discover() -> Locations {
        let executable = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        let directory = executable.deletingLastPathComponent()
        var candidate = directory
        while candidate.path != "/" {
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("Package.swift").path),
                FileManager.default.fileExists(atPath: candidate.appendingPathComponent("schemas").path)
            {
                return Locations(executableDirectory: directory, repository: candidate)
            }
            candidate.deleteLastPathComponent()
        }
        return Locations(executableDirectory: directory, repository: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    }
}
