#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation
import SandboxKernel

/// Copies one workspace file into the share store's `tmp/` and hashes it on the way (the hash names
/// the blob it becomes).
///
/// The source is opened through the path resolver (`openat2(RESOLVE_BENEATH)`: a symlink leading out
/// of the workspace is refused) with `O_NONBLOCK`, so a FIFO cannot hang the server; only a regular
/// file owned by the agent is copied (a hard link to someone else's file is refused).
struct ShareSnapshot {
    let size: Int64
    let sha256: String

    /// Copies `relative` from `workspace` to `destination` (created 0600, must not exist) and fsyncs it.
    /// `admit` sees the file's size before anything is copied and may refuse it by throwing.
    static func take(_ relative: String, display: String, from workspace: Workspace, owner: UInt32?, maxBytes: Int64, to destination: String,
                     admit: (Int64) throws -> Void = { _ in }) throws -> ShareSnapshot {
        let source = try workspace.paths.open(relative, flags: O_RDONLY | O_NONBLOCK | O_NOCTTY, display: display)
        defer { close(source) }
        var info = stat()
        guard fstat(source, &info) == 0 else { throw PathResolver.error(errno: errno, path: display) }
        switch info.st_mode & S_IFMT {
        case Glibc.S_IFREG: break
        case Glibc.S_IFDIR: throw ToolError(.isADirectory, "'\(display)' is a directory; only a single regular file can be shared (pack a directory with bash 'tar czf' and share the archive).")
        default: throw ToolError(.notARegularFile, "'\(display)' is not a regular file (a device, FIFO or socket); only regular files can be shared.")
        }
        if let owner, info.st_uid != owner {
            throw ToolError(.permissionDenied, "'\(display)' is not owned by the agent; only the agent's own files can be shared.")
        }
        guard Int64(info.st_size) <= maxBytes else { throw tooLarge(display, maxBytes) }
        try admit(Int64(info.st_size))

        let target = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard target >= 0 else { throw ToolError(.ioError, "Cannot create the share snapshot: \(String(cString: strerror(errno))).") }
        var completed = false
        defer {
            close(target)
            if !completed { unlink(destination) }
        }
        var hasher = SHA256Hasher()
        var total: Int64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = retryingEINTR { read(source, buffer.baseAddress, buffer.count) }
            if count < 0, errno == EAGAIN { continue }
            if count < 0 { throw ToolError(.ioError, "Cannot read '\(display)': \(String(cString: strerror(errno))).") }
            if count == 0 { break }
            total += Int64(count)
            if total > maxBytes { throw tooLarge(display, maxBytes) }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[..<count])
            hasher.update(chunk)
            try writeAll(target, chunk)
        }
        do {
            try syscallRetrying("fsync", destination) { fsync(target) }
        } catch {
            throw error.errno == ENOSPC ? ToolError(.noSpace, "No space left for the share snapshot.") : ToolError(.ioError, "Cannot write the share snapshot: \(error).")
        }
        completed = true
        return ShareSnapshot(size: total, sha256: hasher.finalizeHex())
    }

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        let failure = writeFully(fd, bytes)
        guard failure != 0 else { return }
        throw failure == ENOSPC ? ToolError(.noSpace, "No space left for the share snapshot.") : ToolError(.ioError, "Cannot write the share snapshot: \(String(cString: strerror(failure))).")
    }

    private static func tooLarge(_ display: String, _ maxBytes: Int64) -> ToolError {
        ToolError(.fileTooLarge, "'\(display)' is larger than the share limit of \(maxBytes) bytes; compress or split it first.")
    }
}
