#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import SandboxKernel

/// An open directory of the workspace (`O_PATH`), closed when the handle goes away.
public final class DirectoryHandle: Sendable {
    public let fd: Int32
    public init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}

extension PathResolver {
    /// Opens the directory `relative` (empty: the root) beneath the root, as `O_PATH | O_DIRECTORY`.
    ///
    /// With `create`, missing components are made one at a time (`mkdirat` of a single name in an
    /// already open parent, so nothing is created outside), mode 0755, owned by `owner` when given.
    public func openDirectory(_ relative: String, create: Bool, owner: Identity?, display: String) throws(ToolError) -> DirectoryHandle {
        let root = DirectoryHandle(fd: try openRoot())
        if relative.isEmpty { return root }
        let fd = csandbox_open_beneath(root.fd, relative, csandbox_O_PATH | O_DIRECTORY, 0, 0)
        if fd >= 0 { return DirectoryHandle(fd: fd) }
        let failure = errno
        guard failure == ENOENT, create else { throw directoryError(failure, relative: relative, display: display) }
        return try makeDirectories(relative, root: root, owner: owner, display: display)
    }

    /// `mkdir -p` beneath the root: each prefix is opened from the root with `openat2`, so in-tree
    /// symlinks work and out-of-tree ones are refused; a missing component is created in its parent.
    private func makeDirectories(_ relative: String, root: DirectoryHandle, owner: Identity?, display: String) throws(ToolError) -> DirectoryHandle {
        var parent = root
        var prefix = ""
        for component in relative.split(separator: "/") {
            prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
            var fd = csandbox_open_beneath(root.fd, prefix, csandbox_O_PATH | O_DIRECTORY, 0, 0)
            if fd < 0, errno == ENOENT {
                if mkdirat(parent.fd, String(component), 0o755) == 0 {
                    adopt(String(component), in: parent.fd, owner: owner)
                } else if errno != EEXIST {
                    throw directoryError(errno, relative: prefix, display: display)
                }
                fd = csandbox_open_beneath(root.fd, prefix, csandbox_O_PATH | O_DIRECTORY, 0, 0)
            }
            if fd < 0 { throw directoryError(errno, relative: prefix, display: display) }
            parent = DirectoryHandle(fd: fd)
        }
        return parent
    }

    /// Gives a directory the server just created to the agent: 0755 (whatever the umask), owner:group.
    /// Opened without following symlinks, so a name swapped in meanwhile is left alone.
    private func adopt(_ name: String, in parent: Int32, owner: Identity?) {
        let fd = csandbox_open_beneath(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, 1)
        guard fd >= 0 else { return }
        defer { close(fd) }
        if let owner { _ = fchown(fd, owner.uid, owner.gid) }
        _ = fchmod(fd, 0o755)
    }

    private func directoryError(_ code: Int32, relative: String, display: String) -> ToolError {
        switch code {
        case ENOENT:
            ToolError(.fileNotFound, "Directory '\(relative)' does not exist (needed for '\(display)'). Create it first, or pass create_dirs=true.")
        case ENOTDIR:
            ToolError(.notADirectory, "'\(relative)' is not a directory, so '\(display)' cannot be placed under it. Choose another path.")
        default:
            Self.error(errno: code, path: display)
        }
    }

    /// The host path of an open descriptor relative to the workspace root ("" for the root itself),
    /// or nil when it is not under the root.
    public func workspaceRelative(of fd: Int32) -> String? {
        guard let path = Self.hostPath(of: fd) else { return nil }
        let rootFD = try? openRoot()
        defer { if let rootFD { close(rootFD) } }
        guard let rootFD, let rootPath = Self.hostPath(of: rootFD) else { return nil }
        if path == rootPath { return "" }
        guard path.hasPrefix(rootPath + "/") else { return nil }
        return String(path.dropFirst(rootPath.count + 1))
    }
}
