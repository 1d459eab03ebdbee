#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation
import SandboxKernel

/// The file-system `SnapshotBlobStore`: blobs at `<root>/<key>` (root-only 0700 directories, 0600
/// files). An upload is written to an unnamed `O_TMPFILE` in `<root>/tmp`, fsynced and linked into
/// place (`linkat` through `/proc/self/fd`), so a key only ever names a complete blob and a crash
/// leaves no partial file behind. While it is written, every `writebackChunk` bytes are handed to the
/// disk (`sync_file_range`, not waited for), so the commit's fsync waits for the tail, not the whole blob.
public struct FileSnapshotBlobStore: SnapshotBlobStore {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// Creates the store's directories if they are missing.
    public func prepare() throws {
        for directory in [root, root + "/tmp"] {
            if mkdir(directory, 0o700) != 0, errno != EEXIST {
                throw ConfigurationError("cannot create the snapshot store \(directory): \(String(cString: strerror(errno)))")
            }
        }
    }

    func path(of key: String) -> String { root + "/" + key }

    public func beginUpload(key: String) throws(ToolError) -> any SnapshotBlobUpload {
        let target = path(of: key)
        let directory = String(target[..<target.lastIndex(of: "/")!])
        if mkdir(directory, 0o700) != 0, errno != EEXIST { throw Self.failure("mkdir", directory) }
        let fd = Glibc.open(root + "/tmp", csandbox_O_TMPFILE | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.failure("open(O_TMPFILE)", root + "/tmp") }
        return FileUpload(fd: fd, target: target, directory: directory)
    }

    public func open(key: String) throws(ToolError) -> any SnapshotBlobDownload {
        let fd = Glibc.open(path(of: key), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw ToolError(.snapshotNotFound, "The snapshot's stored archive is missing; delete the snapshot and take a new one.") }
            throw Self.failure("open", key)
        }
        return FileDownload(fd: fd)
    }

    public func delete(key: String) {
        unlink(path(of: key))
        let target = path(of: key)
        rmdir(String(target[..<target.lastIndex(of: "/")!]))  // the agent's directory, once empty
    }

    static func failure(_ operation: String, _ path: String, _ code: Int32 = errno) -> ToolError {
        if code == ENOSPC || code == EDQUOT {
            return ToolError(.insufficientStorage, "No space left on the server's disk for the snapshot; delete snapshots that are no longer needed.")
        }
        return ToolError(.ioError, "The snapshot store failed at \(operation)(\(path)): \(String(cString: strerror(code))).")
    }
}

private final class FileUpload: SnapshotBlobUpload, @unchecked Sendable {
    private var fd: Int32
    private let target: String
    private let directory: String
    private var size: Int64 = 0
    private var error: Int32 = 0
    /// Bytes already handed to the disk's writeback.
    private var writebackStart: Int64 = 0
    private static let writebackChunk: Int64 = 8 << 20

    init(fd: Int32, target: String, directory: String) {
        self.fd = fd
        self.target = target
        self.directory = directory
    }

    deinit { if fd >= 0 { close(fd) } }

    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard error == 0, fd >= 0 else { return false }
        let failure = writeFully(fd, bytes)
        if failure != 0 {
            error = failure
            return false
        }
        size += Int64(bytes.count)
        if size - writebackStart >= Self.writebackChunk {
            _ = csandbox_start_writeback(fd, writebackStart, size - writebackStart)
            writebackStart = size
        }
        return true
    }

    func commit() throws(ToolError) -> Int64 {
        defer { abort() }
        if error != 0 { throw FileSnapshotBlobStore.failure("write", target, error) }
        guard fsync(fd) == 0 else { throw FileSnapshotBlobStore.failure("fsync", target) }
        unlink(target)  // a leftover of a crashed attempt with the same key
        guard linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, target, AT_SYMLINK_FOLLOW) == 0 else {
            throw FileSnapshotBlobStore.failure("linkat", target)
        }
        // The blob's name must survive a crash too, or the snapshot row would point at nothing.
        let directoryFD = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryFD >= 0 else {
            let failure = FileSnapshotBlobStore.failure("open", directory)
            unlink(target)  // no snapshot will name it
            throw failure
        }
        defer { close(directoryFD) }
        guard fsync(directoryFD) == 0 else {
            let failure = FileSnapshotBlobStore.failure("fsync", directory)
            unlink(target)  // no snapshot will name it
            throw failure
        }
        return size
    }

    var failure: ToolError? { error == 0 ? nil : FileSnapshotBlobStore.failure("write", target, error) }

    func abort() {
        if fd >= 0 { close(fd) }
        fd = -1
    }
}

private final class FileDownload: SnapshotBlobDownload, @unchecked Sendable {
    private let fd: Int32
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
    private(set) var failure: ToolError?

    init(fd: Int32) { self.fd = fd }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    func next() -> UnsafeRawBufferPointer? {
        let count = retryingEINTR { read(fd, buffer.baseAddress, buffer.count) }
        if count < 0 { failure = FileSnapshotBlobStore.failure("read", "snapshot") }
        return count > 0 ? UnsafeRawBufferPointer(rebasing: buffer[..<count]) : nil
    }
}
