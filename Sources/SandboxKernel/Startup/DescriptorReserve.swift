#if canImport(Glibc)
import Glibc
#endif

/// Open-file budget: the soft limit is raised to the hard one at start-up, and connections may take
/// only a part of it, so that with every connection slot full the server still has descriptors for
/// calls (pipes, pidfds, cgroup files), the store and `/healthz`.
public enum DescriptorReserve {
    /// Raises the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force.
    @discardableResult
    public static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: min(limit.rlim_cur, 1 << 20))  // RLIM_INFINITY is the largest rlim_t
    }

    /// The soft RLIMIT_NOFILE in force (`raiseOpenFileLimit` ran at start-up).
    public static func openFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return Int(clamping: min(limit.rlim_cur, 1 << 20))
    }

    /// The connection cap when none is configured: a quarter of the open-file limit, 16,384 at most
    /// (20,000 descriptors → 5,000 connections; the other three quarters stay for calls).
    public static func defaultConnectionCap(openFiles: Int) -> Int {
        max(32, min(16_384, openFiles / 4))
    }
}
