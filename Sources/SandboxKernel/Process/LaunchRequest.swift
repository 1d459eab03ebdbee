import Foundation

/// Who a process runs as: the agent's uid and gid (gid = uid here), no supplementary groups.
public struct Identity: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }
}

/// One process tree to start for an agent.
public struct LaunchRequest: Sendable {
    /// Absolute path of the program.
    public var executable: String
    public var arguments: [String]
    /// The complete environment of the child: nothing of the server's own is added.
    public var environment: [String: String]
    /// Absolute directory the child starts in (checked by the helper as the agent's uid).
    public var workingDirectory: String
    /// nil in shared-uid mode (the server's own uid).
    public var identity: Identity?
    /// Cgroup owner: the agent id.
    public var agent: String
    /// Bytes written to the child's stdin, then closed; nil means stdin is `/dev/null`.
    public var stdin: [UInt8]?
    /// Seconds before the whole tree is killed.
    public var timeout: Double
    /// Bytes kept per output stream.
    public var outputLimit: Int
    /// Where stdout goes as it arrives instead of being kept (then `outputLimit` bounds only stderr).
    public var stdoutSink: (any OutputSink)?
    /// The agent's workspace root: the only host directory bound writable into a bubblewrap sandbox.
    public var workspaceRoot: String?
    public var network: NetworkPolicy = .host
    /// Under `isolated`: the agent's namespace to join, filled in by the launcher (nil: run as `none`).
    public var networkAttachment: NetworkAttachment?
    /// Per-agent limits; nil means the launcher's defaults.
    public var limits: ProcessLimits?
    /// Fired when the calling task is cancelled (set by `ProcessLauncher.run`).
    var cancellation: CallCancellation?

    public init(
        executable: String, arguments: [String], environment: [String: String], workingDirectory: String,
        identity: Identity?, agent: String, stdin: [UInt8]? = nil, timeout: Double, outputLimit: Int
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.identity = identity
        self.agent = agent
        self.stdin = stdin
        self.timeout = timeout
        self.outputLimit = outputLimit
    }
}

/// How a process tree ended. A non-zero exit code is a normal result, not an error.
public struct ProcessResult: Sendable {
    /// The exit status; 128 + signal number when killed by a signal; 124 on timeout.
    public var exitCode: Int32
    public var terminationSignal: Int32?
    public var stdout: OutputCollector
    public var stderr: OutputCollector
    public var timedOut: Bool
    /// Wall-clock seconds from spawn to the end of output.
    public var duration: Double
    /// The calling task was cancelled and the tree killed (`exitCode` then says how the shell died).
    public var cancelled = false
}

extension ProcessResult {
    /// The result of a finished output loop; a timeout reports exit code 124.
    init(loop: OutputLoop, ending: OutputLoop.Ending, started: Date) {
        self.init(
            exitCode: ending.timedOut ? 124 : ending.exitCode, terminationSignal: ending.signal,
            stdout: loop.stdout, stderr: loop.stderr, timedOut: ending.timedOut, duration: Date().timeIntervalSince(started),
            cancelled: ending.cancelled)
    }
}

/// The process could not be started at all (the helper reports which step failed).
public struct LaunchError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
