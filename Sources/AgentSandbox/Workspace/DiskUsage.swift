import CSandbox

/// Bytes allocated on disk under a directory (like `du -s`), without following symlinks or crossing
/// mount points; by descriptors, so trees deeper than PATH_MAX count in full.
enum DiskUsage {
    static func bytes(under path: String) -> Int64 {
        Int64(csandbox_disk_usage(path))
    }
}
