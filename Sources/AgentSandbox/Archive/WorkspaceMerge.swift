#if canImport(Glibc)
import Glibc
#endif

/// Moves a finished staging tree into a live workspace (`mode=merge`): the archive wins.
///
/// Every step is a `renameat` between directory descriptors (atomic for each path; no data is
/// copied): a path missing from the workspace receives the staged file or whole subtree; a staged
/// file replaces a workspace file or symlink; staged and workspace directories are merged
/// recursively and take the archive's mode and mtime; a staged directory replaces a workspace file or
/// symlink. A staged non-directory whose path is a directory in the workspace is skipped (reported).
/// Directories are opened with `O_NOFOLLOW`, so a symlink the agent swaps in meanwhile is never
/// followed (that path is skipped instead).
struct WorkspaceMerge {
    /// Merges the directory `staged` into `target` (both `O_RDONLY | O_DIRECTORY` descriptors).
    static func merge(_ staged: Int32, into target: Int32, prefix: [UInt8], report: inout ImportReport) throws(ArchiveError) {
        for name in DirectoryNames.read(staged) {
            let path = prefix + DirectoryNames.bytes(name)
            var source = stat()
            guard fstatat(staged, name, &source, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            var existing = stat()
            let exists = fstatat(target, name, &existing, AT_SYMLINK_NOFOLLOW) == 0
            let sourceIsDirectory = FileType(mode: source.st_mode) == .directory
            let existingIsDirectory = exists && FileType(mode: existing.st_mode) == .directory
            switch (sourceIsDirectory, existingIsDirectory) {
            case (true, true):
                let from = openat(staged, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                let to = openat(target, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                defer {
                    if from >= 0 { close(from) }
                    if to >= 0 { close(to) }
                }
                guard from >= 0, to >= 0 else {
                    report.skip(path, "the workspace changed during the import")
                    continue
                }
                try merge(from, into: to, prefix: path + [UInt8(ascii: "/")], report: &report)
                fchmod(to, source.st_mode & 0o777)
                var times = [timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2), source.st_mtim]
                futimens(to, &times)
            case (false, true):
                report.skip(path, "a directory of that name exists in the workspace")
                if FileType(mode: source.st_mode) == .regular {
                    report.files -= 1
                    report.bytes -= Int64(source.st_size)
                } else if FileType(mode: source.st_mode) == .symlink {
                    report.symlinks -= 1
                }
            case (true, false):
                if exists { unlinkat(target, name, 0) }
                try move(staged, name, target, path, report: &report)
            case (false, false):
                try move(staged, name, target, path, report: &report)
            }
        }
    }

    /// Renames one entry in; a conflict the agent created meanwhile is skipped, anything else is fatal.
    private static func move(_ from: Int32, _ name: [CChar], _ to: Int32, _ path: [UInt8], report: inout ImportReport) throws(ArchiveError) {
        guard renameat(from, name, to, name) != 0 else { return }
        switch errno {
        case EISDIR, ENOTDIR, ENOTEMPTY, EEXIST: report.skip(path, "the workspace changed during the import")
        default: throw .io(operation: "rename", path: ArchivePath.display(path), errno: errno)
        }
    }
}
