import SandboxKernel

/// Per-call and per-agent resource limits: the server's defaults, and an agent's after its overrides.
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

    /// The part the kernel enforces on the agent's processes (cgroup and rlimits).
    public var processLimits: ProcessLimits {
        var limits = ProcessLimits()
        limits.pidsPerAgent = pidsPerAgent
        limits.memoryPerAgent = memoryPerAgent
        limits.cpuWeight = cpuWeight
        limits.openFiles = openFiles
        limits.fileSizeBytes = fileSizeBytes
        return limits
    }
}
