#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// Runs a short piece of work with the calling thread inside another network namespace (an agent's
/// bound namespace file), then puts the thread back into the server's own: a socket created in there
/// belongs to that namespace for good — its loopback, its ports — wherever it is used afterwards, and
/// `/proc/thread-self/net/…` describes that namespace while the thread is inside.
///
/// `setns(CLONE_NEWNET)` moves only the calling thread, so this runs on a `BlockingWork` thread and the
/// rest of the server never notices. The server's namespace is held open from first use, so the way
/// back cannot fail for want of a path.
package enum NetworkNamespaceEntry {
    /// The server's own network namespace.
    private static let home: Int32 = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)

    /// Runs `body` inside the namespace at `path`; throws when it cannot be entered.
    package static func inside<T>(_ path: String, _ body: () throws -> T) throws -> T {
        guard home >= 0 else { throw SystemCallError(operation: "open", operand: "/proc/self/ns/net", errno: EACCES) }
        let target = try syscallRetrying("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(target) }
        try syscallRetrying("setns", path) { csandbox_setns_net(target) }
        defer {
            // A thread left in an agent's namespace would make later work run there: never continue.
            precondition(csandbox_setns_net(home) == 0, "cannot return to the server's network namespace")
        }
        return try body()
    }
}
