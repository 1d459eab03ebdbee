#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import SandboxKernel

/// Where a write lands: an open parent directory and a single name in it.
///
/// Every later step (`fstatat`, temp file, `renameat`) works on `directory` + `name`, a single
/// component without `/`, so no path is resolved again after the check.
public struct WriteTarget: Sendable {
    public let directory: DirectoryHandle
    public let name: String
    /// The workspace-relative path actually written (a symlink at the last component is followed).
    public let relative: String
    /// The existing file's status, or nil when the file does not exist yet.
    public let existing: stat?
}

extension PathResolver {
    /// Resolves `relative` for writing. A symlink at the last component is followed while it stays in
    /// the workspace (as `echo > link` would); one that leaves it is `PATH_OUTSIDE_WORKSPACE`.
    /// Directories and other non-regular files are refused.
    public func writeTarget(_ relative: String, createDirectories: Bool, owner: Identity?, display: String) throws(ToolError) -> WriteTarget {
        var current = relative
        for _ in 0..<40 {
            let (parent, name) = Self.split(current)
            let directory = try openDirectory(parent, create: createDirectories, owner: owner, display: display)
            var info = stat()
            guard fstatat(directory.fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                if errno == ENOENT { return WriteTarget(directory: directory, name: name, relative: current, existing: nil) }
                throw Self.error(errno: errno, path: display)
            }
            if info.isSymlink {
                current = try followLink(name, in: directory, display: display)
                continue
            }
            if info.isDirectory {
                throw ToolError(.isADirectory, "'\(display)' is a directory, not a file. Name a file inside it (e.g. '\(display)/file.txt').")
            }
            guard info.isRegularFile else {
                throw ToolError(.notARegularFile, "'\(display)' is not a regular file (a FIFO, socket or device); file tools only handle regular files.")
            }
            return WriteTarget(directory: directory, name: name, relative: current, existing: info)
        }
        throw ToolError(.pathOutsideWorkspace, "'\(display)' goes through too many symlinks. Use the real path of the file.")
    }

    /// The workspace-relative path a symlink points to, checked to stay inside the workspace.
    private func followLink(_ name: String, in directory: DirectoryHandle, display: String) throws(ToolError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(directory.fd, name, &buffer, Int(PATH_MAX))
        guard count > 0 else { throw Self.error(errno: errno, path: display) }
        let target = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let outside = ToolError(.pathOutsideWorkspace, "'\(display)' is a symlink to '\(target)', which is outside the workspace. Write to a path inside the workspace root.")
        if target.hasPrefix("/") {
            do { return try self.relative(target, field: "path") } catch { throw outside }
        }
        guard let parent = workspaceRelative(of: directory.fd) else { throw outside }
        do {
            return try self.relative(parent.isEmpty ? target : parent + "/" + target, field: "path")
        } catch {
            throw outside
        }
    }

    /// Splits a normalised relative path into its parent ("" for the root) and last component.
    public static func split(_ relative: String) -> (parent: String, name: String) {
        guard let slash = relative.lastIndex(of: "/") else { return ("", relative) }
        return (String(relative[..<slash]), String(relative[relative.index(after: slash)...]))
    }
}
