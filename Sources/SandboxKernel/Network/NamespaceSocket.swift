#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection made from inside an agent's network namespace to one of its ports, handed over as
/// a connected, non-blocking descriptor (the preview proxy's upstream).
///
/// It connects to the namespace's own loopback, `127.0.0.1:<port>`: a server bound to `127.0.0.1`
/// (dev servers' default) and one bound to `0.0.0.0` both answer there; then, when refused, to the
/// agent's own address (a server bound to that address alone). Loopback connects complete or fail at
/// once, so a port where nothing listens is known immediately.
package enum NamespaceSocket {
    /// The connected descriptor; `SystemCallError` (errno `ECONNREFUSED` when nothing listens).
    package static func connect(namespace path: String, port: Int, agentAddress: String?) throws -> Int32 {
        try NetworkNamespaceEntry.inside(path) { try connectFirst(of: ["127.0.0.1", agentAddress].compactMap { $0 }, port: port) }
    }

    /// The first address that accepts; on to the next only when one refuses.
    private static func connectFirst(of addresses: [String], port: Int) throws(SystemCallError) -> Int32 {
        var lastError = SystemCallError(operation: "connect", operand: "127.0.0.1:\(port)", errno: ECONNREFUSED)
        for address in addresses {
            do {
                return try connect(to: address, port: port)
            } catch {
                lastError = error
                if error.errno != ECONNREFUSED { break }
            }
        }
        throw lastError
    }

    private static func connect(to address: String, port: Int) throws(SystemCallError) -> Int32 {
        let fd = try syscallRetrying("socket", "AF_INET") { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, address, &target.sin_addr)
        let result = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 {
            let code = errno
            close(fd)
            throw SystemCallError(operation: "connect", operand: "\(address):\(port)", errno: code)
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return fd
    }
}
