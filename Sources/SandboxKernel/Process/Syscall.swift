#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: the operation, the operand, and errno.
public struct SystemCallError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let operand: String
    public let errno: Int32

    public var description: String { "\(operation)(\(operand)): \(String(cString: strerror(errno)))" }
}

/// Runs a system call, retrying on EINTR; throws `SystemCallError` on -1.
@discardableResult
package func syscallRetrying<T: FixedWidthInteger>(_ operation: String, _ operand: @autoclosure () -> String = "", _ body: () -> T) throws(SystemCallError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        throw SystemCallError(operation: operation, operand: operand(), errno: code)
    }
}

/// Runs a call again while it fails with EINTR and returns its result as it is: -1 with errno set on any
/// other failure. For calls whose other outcomes the caller handles (EAGAIN on a non-blocking pipe,
/// end of file, a poll timeout).
@inlinable
public func retryingEINTR<T: FixedWidthInteger>(_ body: () -> T) -> T {
    while true {
        let result = body()
        if result != -1 || errno != EINTR { return result }
    }
}

/// Hands all of `bytes` to `transfer` (a `write`, `pwrite` or `send` of the rest, given how many bytes
/// are done), retrying EINTR and short transfers. Returns 0, or the errno of the failed call (EIO when
/// a call transferred nothing without an error).
public func transferFully(_ bytes: UnsafeRawBufferPointer, _ transfer: (_ rest: UnsafeRawBufferPointer, _ done: Int) -> Int) -> Int32 {
    var done = 0
    while done < bytes.count {
        let count = retryingEINTR { transfer(UnsafeRawBufferPointer(rebasing: bytes[done...]), done) }
        if count < 0 { return errno }
        if count == 0 { return EIO }
        done += count
    }
    return 0
}

/// Writes all of `bytes` to `fd`; 0, or the errno of the failed write.
public func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
    transferFully(bytes) { rest, _ in write(fd, rest.baseAddress, rest.count) }
}

/// Writes a small string to a file (cgroup control files); true on success.
@discardableResult
package func writeControlFile(_ path: String, _ value: String) -> Bool {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let written = value.withCString { write(fd, $0, strlen($0)) }
    return written == value.utf8.count
}

/// Reads a small file (cgroup control files, /proc entries); nil when unreadable.
package func readSmallFile(_ path: String, limit: Int = 1 << 20) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 8192)
    while result.count < limit {
        let count = retryingEINTR { buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
        if count <= 0 { break }
        result.append(contentsOf: buffer[..<count])
    }
    return String(decoding: result, as: UTF8.self)
}
