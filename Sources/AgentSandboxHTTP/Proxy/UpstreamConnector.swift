import AgentSandbox
import NIOCore
import NIOPosix

/// How the reverse proxy reaches its upstream: a TCP `host:port` (a cluster node), or a socket that was
/// connected elsewhere and is handed over as a descriptor (a preview: a socket created inside an
/// agent's network namespace, see `NamespaceSocket`). Either way the proxy gets a NIO channel whose
/// pipeline it sets up with `initializer`.
///
/// Failing to connect is `UPSTREAM_UNAVAILABLE` (502); a `ToolError` thrown by a descriptor factory
/// (its own sentence, e.g. "nothing listens on port 3000") passes through as it is.
public struct UpstreamConnector: Sendable {
    /// Names the upstream in error sentences ("node-2 (10.0.0.7:8080)", "port 3000 of agent …").
    public let name: String
    /// What an `UpstreamPool` files this upstream's idle connections under (`host:port`); nil for
    /// upstreams whose connections are never pooled (a descriptor made for one request).
    public let poolKey: String?
    private let open: @Sendable (ClientBootstrap) async throws -> Channel

    /// A TCP connection to `host:port`, given up after `timeout`.
    public static func tcp(host: String, port: Int, name: String? = nil, timeout: TimeAmount = .seconds(10)) -> UpstreamConnector {
        UpstreamConnector(name: name ?? "\(host):\(port)", poolKey: "\(host):\(port)") { bootstrap in
            try await bootstrap.connectTimeout(timeout).connect(host: host, port: port).get()
        }
    }

    /// A stream socket that `make` returns already connected (the channel owns it from then on).
    public static func descriptor(name: String, _ make: @escaping @Sendable () async throws -> CInt) -> UpstreamConnector {
        UpstreamConnector(name: name) { bootstrap in
            let fd = try await make()
            do {
                return try await bootstrap.withConnectedSocket(fd).get()
            } catch {
                close(fd)
                throw error
            }
        }
    }

    public init(name: String, poolKey: String? = nil, open: @escaping @Sendable (ClientBootstrap) async throws -> Channel) {
        self.name = name
        self.poolKey = poolKey
        self.open = open
    }

    /// Connects and runs `initializer` on the new channel's pipeline before any byte is read.
    func connect(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        initializer: @escaping @Sendable (Channel) -> EventLoopFuture<Void>
    ) async throws -> Channel {
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            // Large reads for bulk bodies (NIO's adaptive default starts at 2 KiB): fewer parts to hand over.
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64 << 10, initial: 256 << 10, maximum: 1 << 20))
            .channelInitializer(initializer)
        do {
            return try await open(bootstrap)
        } catch let error as ToolError {
            throw error
        } catch {
            throw ToolError(.upstreamUnavailable, "Could not connect to \(name). Check that it is running and accepts connections, then retry (\(UpstreamErrorDetail.describe(error))).")
        }
    }
}
