import CArchive
import SandboxKernel

/// Owns one reusable `archive_entry` for writing (freed in `deinit`). Fill it, pass it to
/// `ArchiveWriter.write(header:)`, then `reset()` it for the next entry.
final class ArchiveEntryBuilder {
    let handle: OpaquePointer

    init() throws(ArchiveError) {
        guard let handle = archive_entry_new() else { throw .library(operation: "archive_entry_new", message: "out of memory", errno: 0) }
        self.handle = handle
    }

    deinit { archive_entry_free(handle) }

    func reset() { archive_entry_clear(handle) }

    /// Sets the common fields: path (raw bytes, NUL-terminated), type, permission bits, owner, mtime.
    func set(path: UnsafePointer<CChar>, type: FileType, permissions: UInt32, uid: UInt32, gid: UInt32, mtime: timespec) {
        archive_entry_copy_pathname(handle, path)
        archive_entry_set_filetype(handle, type.rawValue)
        archive_entry_set_perm(handle, permissions & 0o7777)
        archive_entry_set_uid(handle, Int64(uid))
        archive_entry_set_gid(handle, Int64(gid))
        archive_entry_set_mtime(handle, Int(mtime.tv_sec), Int(mtime.tv_nsec))
    }

    func set(size: Int64) { archive_entry_set_size(handle, size) }

    func set(symlinkTarget: UnsafePointer<CChar>) { archive_entry_copy_symlink(handle, symlinkTarget) }
}
