#if canImport(Glibc)
import Glibc
#endif
import CSandbox

extension Workspace {
    /// `raw` (relative to the workspace root, or under `/workspace`) resolved without leaving the
    /// workspace, symlinks included, to an absolute host directory.
    public func directory(_ raw: String, field: String) throws(ToolError) -> String {
        let relative = try paths.relative(raw, field: field, allowRoot: true)
        if relative.isEmpty { return root }
        let fd = try paths.open(relative, flags: csandbox_O_PATH | O_DIRECTORY, display: raw)
        defer { close(fd) }
        guard let path = PathResolver.hostPath(of: fd) else { throw ToolError(.ioError, "Cannot resolve \(field) '\(raw)'.") }
        return path
    }
}
