#if canImport(Glibc)
import Glibc
#endif

/// Whole-buffer reads and writes on a descriptor, retrying `EINTR` and short transfers.
/// Failures come back as the errno, for the caller to map with `PathResolver.error(errno:path:)`.
public enum FileIO {
    /// Reads from `fd` until end of file (or `limit` bytes). `sizeHint` sizes the buffer up front.
    public static func readAll(_ fd: Int32, sizeHint: Int = 0, limit: Int = .max) -> Result<[UInt8], Errno> {
        var bytes = [UInt8]()
        var capacity = min(max(sizeHint + 1, 4096), limit)
        bytes.reserveCapacity(capacity)
        while bytes.count < limit {
            if bytes.count == capacity { capacity = min(capacity * 2, limit) }
            let wanted = capacity - bytes.count
            let before = bytes.count
            var failure: Int32 = 0
            bytes.append(contentsOf: repeatElement(0, count: wanted))
            let got = bytes.withUnsafeMutableBytes { buffer -> Int in
                while true {
                    let count = read(fd, buffer.baseAddress! + before, wanted)
                    if count < 0, errno == EINTR { continue }
                    if count < 0 { failure = errno }
                    return count
                }
            }
            if got < 0 { return .failure(Errno(failure)) }
            bytes.removeLast(wanted - got)
            if got == 0 { break }
        }
        return .success(bytes)
    }

    /// Writes all of `bytes` to `fd`.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Result<Void, Errno> {
        bytes.withUnsafeBytes { buffer -> Result<Void, Errno> in
            var offset = 0
            while offset < buffer.count {
                let count = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0, errno == EINTR { continue }
                if count < 0 { return .failure(Errno(errno)) }
                offset += count
            }
            return .success(())
        }
    }

    /// `fstat`, or the errno.
    public static func status(_ fd: Int32) -> Result<stat, Errno> {
        var info = stat()
        return fstat(fd, &info) == 0 ? .success(info) : .failure(Errno(errno))
    }
}

/// An errno value as a typed error.
public struct Errno: Error, Sendable, Equatable {
    public let code: Int32
    public init(_ code: Int32) { self.code = code }
}

extension stat {
    /// The file type bits (`S_IFREG`, `S_IFDIR`, …).
    public var fileType: mode_t { st_mode & S_IFMT }
    public var isRegularFile: Bool { fileType == S_IFREG }
    public var isDirectory: Bool { fileType == S_IFDIR }
    public var isSymlink: Bool { fileType == S_IFLNK }
}
