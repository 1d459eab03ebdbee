#if canImport(Glibc)
import Glibc
#endif

/// The server's own open-file limit. At start-up the soft limit is raised to the hard limit, so that the
/// descriptors calls need (pipes, sockets, pidfds) have a reserve far above what any one walk or call
/// holds; tree walks themselves hold a fixed handful (`TreeWalk`). Agents never inherit it: their
/// processes get `limits.openFiles` from the exec helper.
enum DescriptorLimit {
    /// Raises RLIMIT_NOFILE's soft limit to its hard limit; returns the soft limit now in force.
    @discardableResult
    static func raiseToHardLimit() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 { return UInt64(raised.rlim_cur) }
        }
        return UInt64(limit.rlim_cur)
    }

    /// The soft limit in force.
    static var current: UInt64 {
        var limit = rlimit()
        return getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 ? UInt64(limit.rlim_cur) : 0
    }

    /// RLIMIT_NOFILE as the type `getrlimit` takes (Glibc imports it as an enum case).
    private static let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
}
