#if canImport(Glibc)
import Glibc
#endif
import SandboxKernel

/// Checks, before anything else starts, that the server can bind its address — so "port in use" is a
/// sentence naming the address and the flag, not a bind error after keys and cgroups were set up.
public enum PortProbe {
    /// Binds `host:port` once (as the server will: `SO_REUSEADDR`) and lets go. Port 0 always binds.
    package static func check(host: String, port: Int) throws(ConfigurationError) {
        guard port != 0 else { return }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw ConfigurationError("cannot listen on \(host): not an address or host name this machine can resolve. Choose another with --host (env AGENT_SANDBOX_HOST).")
        }
        defer { freeaddrinfo(list) }
        let address = first.pointee
        let display = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let fd: Int32
        do {
            fd = try syscallRetrying("socket", display) { socket(address.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        } catch {
            return  // no socket to probe with: the server's own bind will report
        }
        defer { close(fd) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        do {
            try syscallRetrying("bind", display) { bind(fd, address.ai_addr, address.ai_addrlen) }
        } catch {
            throw sentence(for: error.errno, address: display, host: host)
        }
    }

    /// The sentence for a failed bind of `address`.
    public static func sentence(for code: Int32, address: String, host: String) -> ConfigurationError {
        switch code {
        case EADDRINUSE:
            ConfigurationError("\(address) is already in use (another agent-sandbox or another server listens there). Stop it, or choose another port with --port (env AGENT_SANDBOX_PORT).")
        case EADDRNOTAVAIL:
            ConfigurationError("cannot listen on \(address): \(host) is not an address of this machine. Choose another with --host (env AGENT_SANDBOX_HOST).")
        case EACCES:
            ConfigurationError("cannot listen on \(address): ports below 1024 need root. Choose another with --port (env AGENT_SANDBOX_PORT).")
        default:
            ConfigurationError("cannot listen on \(address): \(String(cString: strerror(code))). Choose another address with --host/--port (env AGENT_SANDBOX_HOST/AGENT_SANDBOX_PORT).")
        }
    }
}
