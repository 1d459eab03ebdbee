import Foundation
import SandboxKernel

/// One agent's directory and identity: the only door tools use to the file system and to processes.
public struct Workspace: Sendable {
    public let agent: Agent
    /// Absolute host path of the workspace root.
    public var root: String { agent.workspacePath }
    /// Who the agent's processes run as; nil in shared-uid mode (the server's own uid).
    public let launchIdentity: Identity?
    public let launcher: ProcessLauncher
    public let paths: PathResolver
    public let network: NetworkPolicy
    /// The agent's effective limits (its overrides on top of the server's).
    public let limits: ResourceLimits

    public init(
        agent: Agent, launchIdentity: Identity?, launcher: ProcessLauncher, network: NetworkPolicy = .host, limits: ResourceLimits,
        rootDescriptor: RootDescriptor? = nil
    ) {
        self.agent = agent
        self.network = network
        self.limits = limits
        self.launchIdentity = launchIdentity
        self.launcher = launcher
        paths = PathResolver(root: agent.workspacePath, rootDescriptor: rootDescriptor)
    }

    /// The clean environment every agent process starts from: nothing of the server's own.
    public var baseEnvironment: [String: String] {
        [
            "HOME": root,
            "USER": "agent",
            "LOGNAME": "agent",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TERM": "dumb",
            "SHELL": "/bin/bash",
            "PWD": root,
        ]
    }

    /// The base environment plus the caller's `env`: one rule for every entry point (bash, exec, MCP) —
    /// a name that is empty or holds `=` or NUL, or a value with NUL, is a 400 naming the variable.
    public func environment(adding extra: [String: String]?) throws(ToolError) -> [String: String] {
        var environment = baseEnvironment
        for (key, value) in extra ?? [:] {
            guard !key.isEmpty, !key.contains("="), !key.utf8.contains(0), !value.utf8.contains(0) else {
                throw ToolError.invalidField("env", "has an invalid variable name or value: '\(key.prefix(64))' (names are non-empty, without '=' or NUL; values without NUL).")
            }
            environment[key] = value
        }
        return environment
    }

    /// The launch request for running `executable` as this agent: its identity, cgroups, limits, network
    /// policy and (under bubblewrap) this workspace as the only writable host directory.
    public func launchRequest(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        workingDirectory: String? = nil, stdin: [UInt8]? = nil, timeout: Double, outputLimit: Int? = nil
    ) -> LaunchRequest {
        var env = environment ?? baseEnvironment
        env["PWD"] = workingDirectory ?? root
        var request = LaunchRequest(
            executable: executable, arguments: arguments, environment: env,
            workingDirectory: workingDirectory ?? root, identity: launchIdentity, agent: agent.id.rawValue,
            stdin: stdin, timeout: timeout, outputLimit: outputLimit ?? limits.outputBytes)
        request.workspaceRoot = root
        request.network = network
        request.limits = limits.processLimits
        return request
    }

    /// Runs `executable` as the agent inside its workspace and waits for the whole tree to end.
    /// With `stdoutSink`, stdout goes there as it arrives instead of into the result.
    public func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        workingDirectory: String? = nil, stdin: [UInt8]? = nil, timeout: Double, outputLimit: Int? = nil,
        stdoutSink: (any OutputSink)? = nil
    ) async throws -> ProcessResult {
        var request = launchRequest(
            executable, arguments, environment: environment, workingDirectory: workingDirectory, stdin: stdin,
            timeout: timeout, outputLimit: outputLimit)
        request.stdoutSink = stdoutSink
        return try await launcher.run(request)
    }
}
