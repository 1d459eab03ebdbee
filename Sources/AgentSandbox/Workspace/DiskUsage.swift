#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import SandboxKernel

/// Bytes allocated on disk under a directory (like `du -s`), without following symlinks or crossing
/// mount points; with the server's tree walker, so trees of any depth count in full with a fixed
/// number of descriptors. Blocking: call it on `BlockingWork`.
enum DiskUsage {
    /// Throws when the walk had to stop (out of descriptors or memory, or the tree moved under it).
    static func bytes(under path: String) throws(ToolError) -> Int64 {
        let total = csandbox_disk_usage(path)
        guard total >= 0 else {
            throw ToolError(.internalError, "Could not measure the disk use of \(path): \(String(cString: strerror(errno))). Retry in a moment.")
        }
        return Int64(total)
    }
}
