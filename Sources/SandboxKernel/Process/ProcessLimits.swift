/// What the kernel enforces on an agent's processes: its cgroup (tasks, memory, CPU weight) and each
/// process's rlimits. The core's `ProcessLimits` holds every other limit and derives these.
public struct ProcessLimits: Sendable, Equatable {
    /// Tasks per agent (cgroup `pids.max`; also `RLIMIT_NPROC` per uid).
    public var pidsPerAgent = 256
    /// Memory per agent (cgroup), bytes.
    public var memoryPerAgent: Int64 = 1 << 30
    /// Relative CPU weight per agent (cgroup cpu.weight / cpu.shares scale: 100 = one default share).
    public var cpuWeight = 100
    /// Open files per process.
    public var openFiles = 4096
    /// Largest file a process may write, bytes.
    public var fileSizeBytes: Int64 = 8 << 30

    public init() {}
}
