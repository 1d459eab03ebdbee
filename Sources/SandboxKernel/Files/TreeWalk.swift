#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// The server's one file-tree walker (`csandbox_walk` in CSandbox, shared with the removal, chown and
/// disk-use walks): everything below one directory, depth first, with a fixed number of open
/// descriptors however deep the tree (levels above the deepest few are re-opened through `..`, their
/// device and inode checked). Never follows a symlink; `enter()` refuses other file systems.
///
/// Each `next()` reports an entry of the current directory, or that a directory entered earlier is
/// done. A directory is walked into only if `enter()` is called right after it is reported.
///
/// ```swift
/// let walk = try TreeWalk(directory: fd)
/// while let event = try walk.next() {
///     if event == .entry, walk.type == .directory { _ = walk.enter() }
/// }
/// ```
/// Blocking and not thread-safe: run it on a `BlockingWork` or dedicated thread, one walk per thread.
package final class TreeWalk {
    package enum Event { case entry, leave }

    private let walk: OpaquePointer

    /// A walk below `fd` (an `O_RDONLY | O_DIRECTORY` descriptor the caller keeps), read from its start.
    package init(directory fd: Int32) throws(SystemCallError) {
        guard let walk = csandbox_walk_open(fd, 0) else {
            throw SystemCallError(operation: "walk", operand: "", errno: errno)
        }
        self.walk = walk
    }

    deinit { csandbox_walk_close(walk) }

    /// The next event; nil at the end. Throws when the walk had to stop (ESTALE: a directory above the
    /// current one was moved meanwhile; EMFILE, ENOMEM; an unreadable directory).
    package func next() throws(SystemCallError) -> Event? {
        switch csandbox_walk_next(walk) {
        case CSANDBOX_WALK_ENTRY: return .entry
        case CSANDBOX_WALK_LEAVE: return .leave
        case CSANDBOX_WALK_END: return nil
        default: throw SystemCallError(operation: "walk", operand: String(decoding: path, as: UTF8.self), errno: errno)
        }
    }

    /// Walks into the directory just reported: its descriptor (the walker's, valid until the next
    /// `next()`), or -1 with errno (EXDEV for another file system).
    package func enter() -> Int32 { csandbox_walk_enter(walk) }

    /// The directory holding the current entry (for `.leave`, the left directory's parent).
    package var directoryFD: Int32 { csandbox_walk_dirfd(walk) }
    /// The current entry's name, NUL-terminated.
    package var name: UnsafePointer<CChar> { csandbox_walk_name(walk) }
    package var type: FileType? { FileType(mode: UInt32(csandbox_walk_type(walk)) << 12) }
    /// 0 for the entries of the walk's own directory.
    package var depth: Int { csandbox_walk_depth(walk) }

    /// lstat of the current entry (after `enter()`: fstat of the opened directory); nil if it vanished.
    package func status() -> stat? {
        var info = stat()
        return csandbox_walk_stat(walk, &info) == 0 ? info : nil
    }

    /// The current entry's path relative to the walk's directory.
    package var path: [UInt8] {
        var length = 0
        guard let bytes = csandbox_walk_path(walk, &length) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: length))
    }
}
