#if canImport(Glibc)
import Glibc
#endif

/// A plain listening TCP socket on 127.0.0.1, for tests about ports and connections rather than HTTP
/// (a client connection to it: `LoopbackConnection`).
enum LoopbackSocket {
    /// A socket listening on a free port of 127.0.0.1; the caller closes `descriptor`.
    static func listening() throws -> (descriptor: Int32, port: Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        guard bound == 0, listen(descriptor, 4) == 0,
              withUnsafeMutablePointer(to: &address, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }) == 0
        else {
            let failure = errno
            close(descriptor)
            throw TestFailure("bind, listen or getsockname on 127.0.0.1: errno \(failure)")
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }
}
