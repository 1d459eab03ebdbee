#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import SandboxKernel

/// Moves a finished staging tree into a live workspace (`mode=merge`): the archive wins.
///
/// Every step is a `renameat` between directory descriptors (atomic for each path; no data is
/// copied): a path missing from the workspace receives the staged file or whole subtree; a staged
/// file replaces a workspace file or symlink; staged and workspace directories are merged and take
/// the archive's mode and mtime; a staged directory replaces a workspace file or symlink. A staged
/// non-directory whose path is a directory in the workspace is skipped (reported).
///
/// The staged tree is walked with `TreeWalk` (a fixed number of descriptors); the workspace directory
/// matching the current staged one is the only other descriptor held, opened from the workspace root
/// with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`, so a symlink the agent swaps in meanwhile is
/// never followed (that path is skipped instead). Staged paths are shorter than PATH_MAX.
struct WorkspaceMerge {
    /// Merges the directory `staged` into `target` (both `O_RDONLY | O_DIRECTORY` descriptors).
    static func merge(_ staged: Int32, into target: Int32, report: inout ImportReport) throws(ArchiveError) {
        let walk: TreeWalk
        do {
            walk = try TreeWalk(directory: staged)
        } catch {
            throw .io(operation: "open", path: "", errno: error.errno)
        }
        var current = dup(target)
        guard current >= 0 else { throw .io(operation: "dup", path: "", errno: errno) }
        defer { close(current) }
        while true {
            guard let event = try walk.nextArchiveEvent() else { return }
            let path = walk.path
            if event == .leave {
                // The merged directory takes the archive's mode and mtime; then back to its parent.
                if let source = walk.status() {
                    fchmod(current, source.st_mode & 0o777)
                    var times = [timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2), source.st_mtim]
                    futimens(current, &times)
                }
                close(current)
                current = open(Array(path[..<(path.lastIndex(of: UInt8(ascii: "/")) ?? 0)]), beneath: target)
                if current < 0 { throw .io(operation: "open", path: ArchivePath.display(path), errno: errno) }
                continue
            }
            guard let source = walk.status() else { continue }
            var existing = stat()
            let exists = fstatat(current, walk.name, &existing, AT_SYMLINK_NOFOLLOW) == 0
            let sourceIsDirectory = FileType(mode: source.st_mode) == .directory
            let existingIsDirectory = exists && FileType(mode: existing.st_mode) == .directory
            switch (sourceIsDirectory, existingIsDirectory) {
            case (true, true):
                let into = openat(current, walk.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard into >= 0, walk.enter() >= 0 else {
                    if into >= 0 { close(into) }
                    report.skip(path, "the workspace changed during the import")
                    continue
                }
                close(current)
                current = into
            case (false, true):
                report.skip(path, "a directory of that name exists in the workspace")
                if FileType(mode: source.st_mode) == .regular {
                    report.files -= 1
                    report.bytes -= Int64(source.st_size)
                } else if FileType(mode: source.st_mode) == .symlink {
                    report.symlinks -= 1
                }
            case (true, false):
                if exists { unlinkat(current, walk.name, 0) }
                try move(walk.directoryFD, walk.name, current, path, report: &report)
            case (false, false):
                try move(walk.directoryFD, walk.name, current, path, report: &report)
            }
        }
    }

    /// The workspace directory at `path` (bytes, relative; empty: the root), never through a symlink.
    private static func open(_ path: [UInt8], beneath root: Int32) -> Int32 {
        if path.isEmpty { return dup(root) }
        return (path + [0]).withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { csandbox_open_beneath(root, $0.baseAddress!, O_RDONLY | O_DIRECTORY, 0, 1) }
        }
    }

    /// Renames one entry in; a conflict the agent created meanwhile is skipped, anything else is fatal.
    private static func move(_ from: Int32, _ name: UnsafePointer<CChar>, _ to: Int32, _ path: [UInt8], report: inout ImportReport) throws(ArchiveError) {
        guard renameat(from, name, to, name) != 0 else { return }
        switch errno {
        case EISDIR, ENOTDIR, ENOTEMPTY, EEXIST: report.skip(path, "the workspace changed during the import")
        default: throw .io(operation: "rename", path: ArchivePath.display(path), errno: errno)
        }
    }
}
