#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import SandboxKernel

extension SandboxServices {
    /// Checks the environment, opens the store, and wires every service. Returns the services and the
    /// API key generated on first start (to be printed once), if any.
    public static func prepare(configuration: ServerConfiguration, tools: ToolRegistry, logger: Logger) async throws -> (SandboxServices, generatedKey: String?) {
        if !configuration.allowSharedUID, geteuid() != 0 {
            throw ConfigurationError("agent-sandbox must run as root: it gives every agent its own uid. Run it with sudo, or pass --allow-shared-uid for a development server without isolation between agents.")
        }
        guard access(configuration.execHelper.path, X_OK) == 0 else {
            throw ConfigurationError("the exec helper \(configuration.execHelper.path) is missing; build the package (swift build) so agent-sandbox-exec sits next to agent-sandbox.")
        }
        // Before any key is printed or cgroup created: the address is free, the uid range is ours.
        try PortProbe.check(host: configuration.host, port: configuration.port)
        if !configuration.allowSharedUID {
            try UIDRangeLock.acquire(configuration.uidBase...(configuration.uidBase + configuration.uidCount - 1), dataRoot: configuration.dataRoot.path)
        }
        let openFiles = DescriptorReserve.raiseOpenFileLimit()
        try DataRoot.prepare(configuration)
        var configuration = configuration
        detectDiskImages(&configuration, logger: logger)
        ArchiveImport.removeLeftovers(stateDirectory: configuration.stateDirectory.path)
        let store = try await configuration.openStore(logger: logger)
        try await ShareService(store: store, configuration: configuration).prepareStore(logger: logger)
        let schemas = try SchemaCatalog(directory: configuration.schemaDirectory)
        for name in tools.names where schemas.validator(for: name) == nil {
            throw ConfigurationError("tool \(name) has no schema in \(configuration.schemaDirectory.path)/tools/\(name).json")
        }
        let cgroups = CgroupController.detect(groupName: CgroupController.groupName(forDataRoot: configuration.dataRoot.path))
        if let cgroups {
            cgroups.sweepStaleCalls()
            logger.info("cgroups: \(cgroups.summary)")
        } else {
            logger.warning("no writable cgroup hierarchy: timeouts fall back to killing the process group; setsid daemons may escape until the agent is deleted")
        }
        if configuration.allowSharedUID {
            logger.warning("⚠️  --allow-shared-uid: EVERY agent command runs as the server's own uid \(getuid()). Agents are NOT isolated from each other or from the server. Never use this in production.")
        }
        let (keys, generated) = try await APIKeyAuthority.bootstrap(store: store, adminKey: configuration.adminKey)
        let bubblewrap = configuration.isolation == .full ? BubblewrapProfile.locate() : nil
        if configuration.isolation == .full, bubblewrap == nil {
            logger.warning("bubblewrap (bwrap) is not installed: agents run with uid, cgroup, rlimit and no_new_privs isolation but WITHOUT namespaces (they can see other processes and the host file system their uid may read). Install it: apt-get install bubblewrap")
        }
        if configuration.allowSharedUID, bubblewrap != nil {
            logger.warning("--allow-shared-uid: bubblewrap namespaces are not used in shared-uid mode")
        }
        let launcher = ProcessLauncher(
            helperPath: configuration.execHelper.path, cgroups: cgroups, limits: configuration.limits.processLimits,
            isolation: configuration.isolation, bubblewrap: configuration.allowSharedUID ? nil : bubblewrap,
            sandboxInit: try DataRoot.installSandboxInit(configuration, using: bubblewrap, cgroups: cgroups),
            warmIdleSeconds: configuration.warmSandboxIdleSeconds,
            networks: configuration.allowSharedUID ? nil : AgentNetworks.detect(settings: configuration.isolatedNetwork, helper: configuration.execHelper.path, logger: logger))
        let sandboxes = launcher.bubblewrap.map { " (bubblewrap \($0.executable), \(launcher.usesWarmSandboxes ? "warm per-agent sandboxes" : "one per call"))" } ?? ""
        logger.info("isolation: \(configuration.isolation.rawValue)\(sandboxes), network: \(configuration.network.rawValue), open files: \(openFiles)")
        let agents = AgentRegistry(store: store, configuration: configuration, cgroups: cgroups)
        await launcher.networks?.setPolicySource { [agents, configuration] agent in
            // The cached agent first: `agent(_:)` refuses agents mid-resize, whose policy still holds.
            guard let id = try? AgentID(agent) else { return configuration.isolatedNetwork.egress }
            if let cached = agents.cache.withLock({ $0[id] }) { return cached.egress }
            return (try? await agents.agent(id))?.egress ?? configuration.isolatedNetwork.egress
        }
        try await agents.mountDisks(logger: logger)
        // A deleted agent's sandbox goes before its workspace and uid do.
        // Its network namespace goes too; a suspended agent keeps it (its frozen processes live in it).
        agents.onEnd { [launcher] agent, end in
            if end.leavesNode {
                await launcher.stopWarmSandbox(agent: agent.rawValue)
                await launcher.networks?.remove(agent: agent.rawValue)
            }
        }
        let execSessions = try await ExecSessionManager.prepare(store: store, launcher: launcher, agents: agents, limits: configuration.limits, logger: logger)
        let audit = AuditLog(store: store, logger: logger)
        let metrics = Metrics()
        let pipeline = CallPipeline(
            agents: agents, tools: tools, schemas: schemas, configuration: configuration, launcher: launcher,
            shares: ShareService(store: store, configuration: configuration), audit: audit, metrics: metrics)
        let services = SandboxServices(pipeline: pipeline, store: store, execSessions: execSessions, keys: keys, logger: logger)
        let snapshots = services.snapshots
        try await snapshots.prepare(store: snapshotBlobs(configuration), logger: logger)
        // A deleted agent's snapshots go with it (rows and stored archives).
        agents.onEnd { agent, end in
            if end == .deleted { try? await snapshots.removeAll(of: agent) }
        }
        metrics.addGauges { [agents, execSessions, launcher] in
            await MetricsGauges.collect(agents: agents, sessions: execSessions, launcher: launcher)
        }
        return (services, generated)
    }
}

/// The data root: root-owned 0711 (agents can reach their own workspace, list nothing), with the
/// server's state in a root-only 0700 `.agentsandbox/`.
enum DataRoot {
    static func prepare(_ configuration: ServerConfiguration) throws {
        let root = configuration.dataRoot.path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        if !configuration.allowSharedUID {
            _ = chown(root, 0, 0)
            _ = chmod(root, 0o711)
            try checkTraversable(root)
        }
        let state = configuration.stateDirectory.path
        if mkdir(state, 0o700) != 0, errno != EEXIST {
            throw ConfigurationError("cannot create \(state): \(String(cString: strerror(errno)))")
        }
        _ = chmod(state, 0o700)
    }

    /// Copies the exec helper to `DATA/.sandbox-init` (root-owned, 0755, replaced atomically): bubblewrap,
    /// running as the agent, binds it into each warm sandbox as the zygote, and agents can reach the data
    /// root but not necessarily the build directory. nil when warm sandboxes are off or cannot be used
    /// (they need bubblewrap, and per-call cgroup leaves: a warm call's only kill handle).
    static func installSandboxInit(_ configuration: ServerConfiguration, using bubblewrap: BubblewrapProfile?, cgroups: CgroupController?) throws -> String? {
        guard configuration.warmSandboxes, configuration.isolation == .full, bubblewrap != nil, !configuration.allowSharedUID,
              cgroups?.makesCallLeaves == true else { return nil }
        let target = configuration.dataRoot.appendingPathComponent(".sandbox-init").path
        let staging = target + ".\(getpid())"
        unlink(staging)
        do {
            try FileManager.default.copyItem(atPath: configuration.execHelper.path, toPath: staging)
        } catch {
            unlink(staging)
            throw ConfigurationError("cannot copy the exec helper to \(staging): \(error)")
        }
        guard chown(staging, 0, 0) == 0, chmod(staging, 0o755) == 0, rename(staging, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(staging)
            throw ConfigurationError("cannot install \(target): \(reason)")
        }
        return target
    }

    /// Agents reach `DATA/<id>/` only if every ancestor is searchable by "others".
    private static func checkTraversable(_ path: String) throws {
        var current = URL(fileURLWithPath: path).standardizedFileURL
        while current.path != "/" {
            current.deleteLastPathComponent()
            var info = stat()
            if stat(current.path, &info) == 0, info.st_mode & 0o001 == 0 {
                throw ConfigurationError("agents cannot reach workspaces under \(path): \(current.path) is not searchable by other users (mode \(String(info.st_mode & 0o777, radix: 8))). Choose another --data directory or run chmod o+x \(current.path).")
            }
        }
    }
}
