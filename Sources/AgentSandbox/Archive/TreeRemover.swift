#if canImport(Glibc)
import Glibc
#endif

/// Removes a directory tree by descriptors (`openat(O_NOFOLLOW)` + `unlinkat`), never by path strings.
///
/// Used for trees an agent may still be changing — the workspace a `replace` import swapped out can
/// be the working directory of a running command. A path-based walk (`nftw`, `rm -r`) could be sent
/// through a symlink swapped in for a directory mid-walk and delete files elsewhere; a descriptor
/// pins each directory, so the worst a concurrent rename can do is move an agent's own files out of
/// reach of this removal.
enum TreeRemover {
    /// Removes `path` and everything below it; missing is fine. Best effort: keeps going past failures.
    static func remove(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            unlink(path)
            return
        }
        removeContents(fd, depth: 0)
        close(fd)
        rmdir(path)
    }

    private static func removeContents(_ directory: Int32, depth: Int) {
        guard depth < 4096 else { return }
        for name in DirectoryNames.read(directory) {
            var info = stat()
            guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            if FileType(mode: info.st_mode) == .directory {
                let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if child >= 0 {
                    removeContents(child, depth: depth + 1)
                    close(child)
                }
                unlinkat(directory, name, AT_REMOVEDIR)
            } else {
                unlinkat(directory, name, 0)
            }
        }
    }
}
