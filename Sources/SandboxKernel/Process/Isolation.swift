/// How much of the sandbox a process gets. Each layer adds to the one before.
public enum IsolationLevel: String, Sendable, CaseIterable {
    /// The agent's uid/gid, no groups, no_new_privs, rlimits, closed fds, new session. No cgroup:
    /// timeouts fall back to killing the process group (a `setsid` daemon can escape). Benchmarks only.
    case uid
    /// `uid` plus a per-call cgroup (kill the whole tree) under per-agent limits (pids, memory, cpu).
    case cgroup
    /// `cgroup` plus bubblewrap namespaces (pid, ipc, uts, mount, cgroup, user; network by policy): a
    /// tmpfs root with read-only system directories, only this agent's workspace, a private `/tmp`.
    case full
}

/// Whether and how agents reach the network.
public enum NetworkPolicy: String, Sendable, CaseIterable, Codable {
    /// The agent's own network namespace (own loopback, a veth to the host, NAT out); the host itself,
    /// private and link-local ranges, multicast and other agents are refused. The default for new agents.
    case isolated
    /// A private network namespace with loopback only.
    case none
    /// The host's network, unfiltered but for the server's own port: for trusted agents only.
    case host

    /// The accepted values, for error messages: `"isolated", "none" or "host"`.
    public static let choices = "\"isolated\", \"none\" or \"host\""
}
