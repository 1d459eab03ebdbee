#if canImport(Glibc)
import Glibc
#endif

/// Whole-buffer reads and writes on a descriptor, retrying `EINTR` and short transfers.
/// Failures come back as the errno, for the caller to map with `PathResolver.error(errno:path:)`.
public enum FileIO {
    /// Reads from `fd` until end of file (or `limit` bytes). `sizeHint` sizes the buffer up front;
    /// bytes are read straight into the array's storage (no per-byte work, even in debug builds).
    public static func readAll(_ fd: Int32, sizeHint: Int = 0, limit: Int = .max) -> Result<[UInt8], Errno> {
        var result: [UInt8] = []
        var capacity = min(max(sizeHint + 1, 4096), limit)
        while true {
            var failure: Int32 = 0
            var reachedEnd = false
            let previous = result
            result = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                count = previous.count
                if let source = previous.withUnsafeBufferPointer({ $0.baseAddress }), count > 0 {
                    memcpy(buffer.baseAddress!, source, count)
                }
                while count < capacity {
                    let got = retryingEINTR { read(fd, buffer.baseAddress! + count, capacity - count) }
                    if got < 0 { failure = errno; return }
                    if got == 0 { reachedEnd = true; return }
                    count += got
                }
            }
            if failure != 0 { return .failure(Errno(failure)) }
            if reachedEnd || capacity >= limit { return .success(result) }
            capacity = min(capacity * 2, limit)
        }
    }

    /// Writes all of `bytes` to `fd`.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Result<Void, Errno> {
        let failure = bytes.withUnsafeBytes { writeFully(fd, $0) }
        return failure == 0 ? .success(()) : .failure(Errno(failure))
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
