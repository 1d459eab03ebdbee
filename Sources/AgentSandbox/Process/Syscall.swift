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
func syscallRetrying<T: FixedWidthInteger>(_ operation: String, _ operand: @autoclosure () -> String = "", _ body: () -> T) throws(SystemCallError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        throw SystemCallError(operation: operation, operand: operand(), errno: code)
    }
}

/// Writes a small string to a file (cgroup control files); true on success.
@discardableResult
func writeControlFile(_ path: String, _ value: String) -> Bool {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let written = value.withCString { write(fd, $0, strlen($0)) }
    return written == value.utf8.count
}

/// Reads a small file (cgroup control files, /proc entries); nil when unreadable.
func readSmallFile(_ path: String, limit: Int = 1 << 20) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 8192)
    while result.count < limit {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        if count <= 0 { break }
        result.append(contentsOf: buffer[..<count])
    }
    return String(decoding: result, as: UTF8.self)
}
