#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation

/// Starts agent processes safely from a multi-threaded Swift server.
///
/// The server never forks: it `posix_spawn`s the small C helper `agent-sandbox-exec`, which joins the
/// call's cgroup, sets rlimits, closes inherited fds, starts a new session, drops groups/gid/uid, sets
/// `no_new_privs` and execs. Output is read on a dedicated thread with `poll`, capped per stream. When
/// the main process exits or the timeout fires, the call's cgroup is killed: nothing it started outlives it.
public final class ProcessLauncher: Sendable {
    public let helperPath: String
    public let cgroups: CgroupController?
    public let limits: ProcessLimits
    public let isolation: IsolationLevel
    /// Present when isolation is `.full` and bubblewrap is installed.
    public let bubblewrap: BubblewrapProfile?

    /// The isolated agents' network namespaces; nil when this host cannot make them (isolated agents
    /// then run as `none`).
    public let networks: AgentNetworks?

    /// Per-agent zygotes inside bubblewrap (full isolation with cgroups): a call forks there instead of
    /// starting its own bubblewrap. nil when calls start cold.
    let warmSandboxes: WarmSandboxPool?
    let sandboxInit: String?

    /// `sandboxInit`: a root-owned copy of the helper that agents can reach (bubblewrap binds it into each
    /// warm sandbox as the zygote); with it, and isolation `.full` with bubblewrap and cgroups, calls run
    /// through per-agent warm sandboxes, each stopped after `warmIdleSeconds` without calls. Without it,
    /// a fresh bubblewrap starts per call.
    public init(
        helperPath: String, cgroups: CgroupController?, limits: ProcessLimits, isolation: IsolationLevel = .cgroup,
        bubblewrap: BubblewrapProfile? = nil, sandboxInit: String? = nil, warmIdleSeconds: Double = 300,
        networks: AgentNetworks? = nil
    ) {
        self.networks = networks
        self.helperPath = helperPath
        self.cgroups = isolation == .uid ? nil : cgroups
        self.limits = limits
        self.isolation = isolation
        self.bubblewrap = isolation == .full ? bubblewrap : nil
        self.sandboxInit = sandboxInit
        // A warm call has no pid of ours to kill: its cgroup leaf is the only handle on it.
        let leaves = self.cgroups?.makesCallLeaves ?? false
        warmSandboxes = sandboxInit != nil && self.bubblewrap != nil && leaves ? WarmSandboxPool(idleSeconds: warmIdleSeconds) : nil
    }

    /// Stops idle warm sandboxes until cancelled (runs for the server's lifetime).
    public func runWarmSandboxUpkeep() async {
        await warmSandboxes?.runUpkeep()
    }

    /// Whether calls under full isolation fork inside a warm per-agent sandbox.
    public var usesWarmSandboxes: Bool { warmSandboxes != nil }

    /// Stops `agent`'s warm sandbox (the agent is being deleted).
    public func stopWarmSandbox(agent: String) async {
        await warmSandboxes?.stop(agent: agent)
    }

    /// How many warm sandboxes are up.
    public func warmSandboxCount() async -> Int {
        await warmSandboxes?.count ?? 0
    }

    /// Stops the warm sandboxes (server shutdown).
    public func stopWarmSandboxes() async {
        await warmSandboxes?.stopAll()
    }

    /// Runs the request to completion (or timeout) without blocking Swift's cooperative threads.
    /// Cancelling the calling task (an MCP client's `notifications/cancelled`) kills the call's whole tree,
    /// as its timeout does, and throws `CancellationError` (the pipeline records it as `CANCELLED`).
    public func run(_ request: LaunchRequest) async throws -> ProcessResult {
        var request = try await attachingNetwork(request)
        let cancellation = CallCancellation()
        request.cancellation = cancellation
        let result = try await withTaskCancellationHandler { [self, request] in
            if let warmSandboxes, let cgroups, request.identity != nil, request.workspaceRoot != nil {
                return try await runWarm(request, pool: warmSandboxes, cgroups: cgroups)
            }
            return try await CallThreads.shared.run { [self] () throws(any Error) in try self.runBlocking(request) }
        } onCancel: {
            cancellation.fire()
        }
        if result.cancelled { throw CancellationError() }
        return result
    }

    /// The helper's argv: options, `--`, then the program and its arguments. `bindIn`: a host file bubblewrap
    /// binds read-only inside (the warm sandbox's zygote program).
    func helperArguments(_ request: LaunchRequest, group: CallGroup?, bindIn: (host: String, path: String)? = nil) -> [String] {
        let limits = request.limits ?? self.limits
        var arguments = [helperPath]
        if let identity = request.identity {
            arguments += ["--uid", String(identity.uid), "--gid", String(identity.gid)]
            arguments += ["--rlimit", "nproc=\(limits.pidsPerAgent)"]
        }
        for path in group?.joinPaths ?? [] { arguments += ["--cgroup", path] }
        arguments += ["--rlimit", "core=0", "--rlimit", "nofile=\(limits.openFiles)", "--rlimit", "fsize=\(limits.fileSizeBytes)"]
        arguments += ["--cwd", request.workingDirectory]
        // Isolated without a namespace (the host cannot make one) is loopback only, never the host's network.
        let attachment = request.network == .isolated ? request.networkAttachment : nil
        let network: NetworkPolicy = request.network == .isolated && attachment == nil ? .none : request.network
        if let attachment { arguments += ["--netns", attachment.namespacePath] }
        guard let bubblewrap, let identity = request.identity, let workspace = request.workspaceRoot else {
            if network == .none { arguments.append("--private-network") }
            return arguments + ["--", request.executable] + request.arguments
        }
        for text in bubblewrap.dataFiles(identity: identity, home: workspace) { arguments += ["--data-fd", text] }
        if let attachment { arguments += ["--data-fd", attachment.resolvConf] }
        // No process may ptrace or take another's descriptors (the zygote installs this filter itself).
        if bindIn == nil { arguments.append("--deny-process-access") }
        arguments.append("--")
        arguments += bubblewrap.arguments(
            workspace: workspace, workingDirectory: request.workingDirectory, network: network, bindIn: bindIn,
            resolvConfPath: attachment?.resolvConfPath)
        return arguments + [request.executable] + request.arguments
    }

    func runBlocking(_ request: LaunchRequest) throws -> ProcessResult {
        let started = Date()
        let process = try startBlocking(request, withStdin: request.stdin != nil)
        let (pid, output, group) = (process.pid, process.pipes, process.group)
        defer {
            output.closeAll()
            group?.remove()
        }
        var loop = OutputLoop(exit: .child(pid), pipes: output, stdin: request.stdin ?? [], limit: request.outputLimit,
            stdoutSink: request.stdoutSink, cancellation: request.cancellation)
        let ending = loop.run(deadline: started.addingTimeInterval(request.timeout)) {
            // The main process is gone (or timed out): take everything it started down with it.
            group?.kill()
            Glibc.kill(-pid, SIGKILL)
        }
        return ProcessResult(loop: loop, ending: ending, started: started)
    }

    /// Spawns the helper (`ChildSpawn`: every signal reset) with `pipes` on fds 0–3; also used by exec sessions.
    func spawn(arguments: [String], environment: [String: String], pipes: PipeSet) throws -> pid_t {
        let stdin: ChildSpawn.Source = pipes.stdinRead.map { .duplicate($0) } ?? .open("/dev/null", O_RDONLY)
        let spawned = ChildSpawn.run(helperPath, arguments: arguments, environment: environment.map { "\($0.key)=\($0.value)" },
            descriptors: [(0, stdin), (1, .duplicate(pipes.stdoutWrite)), (2, .duplicate(pipes.stderrWrite)), (3, .duplicate(pipes.errorWrite))])
        switch spawned {
        case .success(let pid): return pid
        case .failure(let error): throw LaunchError(description: "posix_spawn \(helperPath): \(String(cString: strerror(error.code)))")
        }
    }
}
