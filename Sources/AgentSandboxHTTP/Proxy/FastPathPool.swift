import AgentSandbox
import NIOCore
import NIOHTTP1
import NIOPosix

/// Kept-alive connections to the nodes for the gateway's fast path, one pool per event loop: a
/// connection is opened on the loop of the client connection that needs it and reused only by client
/// connections of that loop, so an exchange never leaves its thread and the pool needs no lock. The
/// same rules as `UpstreamPool`: a connection comes back only after a clean exchange (decided by
/// `FastPathHandler`), at most `maxIdlePerUpstream` wait per node, each at most `idleTimeout` (below
/// the node's own idle timeout), and one the node closes leaves at once.
final class FastPathPool: @unchecked Sendable {
    /// Where a node is reached, parsed once per advertised URL.
    struct Address {
        let host: String
        let port: Int
        /// `host:port`, the key its connections are filed under.
        let key: String
    }

    let eventLoop: any EventLoop
    let maxIdlePerUpstream = 64
    let idleTimeout = TimeAmount.seconds(10)
    let connectTimeout = TimeAmount.seconds(3)
    // Touched only on `eventLoop` (hence `@unchecked Sendable`: the pools are shared, their contents are not).
    private var idle: [String: [FastPathUpstream]] = [:]
    private var addresses: [String: Address] = [:]
    private var closed = false

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// The address of `node` (nil when its advertised URL is not `http://host:port`: the slow path
    /// answers that).
    func address(of node: ClusterNode) -> Address? {
        if let known = addresses[node.advertiseURL] { return known }
        guard let (host, port) = try? GatewayProxy.address(of: node) else { return nil }
        let address = Address(host: host, port: port, key: "\(host):\(port)")
        addresses[node.advertiseURL] = address
        return address
    }

    /// An open idle connection to `key`, most recently parked first.
    func take(_ key: String) -> FastPathUpstream? {
        let now = NIODeadline.now()
        while let upstream = idle[key]?.popLast() {
            if upstream.isActive, now - upstream.parkedAt < idleTimeout { return upstream }
            upstream.close()
        }
        return nil
    }

    /// Parks `upstream` for the next exchange, or closes it (pool full or shut down).
    func park(_ upstream: FastPathUpstream) {
        guard !closed, upstream.isActive, idle[upstream.key, default: []].count < maxIdlePerUpstream else { return upstream.close() }
        upstream.parkedAt = .now()
        idle[upstream.key, default: []].append(upstream)
    }

    /// Removes a closed connection.
    func forget(_ upstream: FastPathUpstream) {
        guard let list = idle[upstream.key], list.contains(where: { $0 === upstream }) else { return }
        idle[upstream.key] = list.filter { $0 !== upstream }
    }

    /// Closes the idle connections to `key` (its node stopped answering).
    func drop(_ key: String) {
        for upstream in idle.removeValue(forKey: key) ?? [] { upstream.close() }
    }

    /// A new connection to `address` on this pool's loop, with the HTTP/1 client codec and a
    /// `FastPathUpstream` (found with `syncOperations.handler(type:)` once connected).
    func connect(to address: Address) -> EventLoopFuture<any Channel> {
        let (key, pool) = (address.key, self)
        return ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(FastPathUpstream(key: key, pool: pool))
                }
            }
            .connect(host: address.host, port: address.port)
    }

    /// Closes every idle connection; later ones are closed as they come back.
    func closeAll() {
        closed = true
        for upstream in idle.values.joined() { upstream.close() }
        idle = [:]
    }
}

/// One `FastPathPool` per event loop of the server's group, fixed at start (lookups take no lock).
final class FastPathPools: Sendable {
    private let byLoop: [ObjectIdentifier: FastPathPool]

    init(group: MultiThreadedEventLoopGroup = .singleton) {
        var pools: [ObjectIdentifier: FastPathPool] = [:]
        for loop in group.makeIterator() { pools[ObjectIdentifier(loop)] = FastPathPool(eventLoop: loop) }
        byLoop = pools
    }

    /// The pool of `loop`; nil for a loop of another group (the fast path then stands aside).
    func pool(for loop: any EventLoop) -> FastPathPool? {
        byLoop[ObjectIdentifier(loop)]
    }

    /// Closes the idle connections of every loop.
    func shutdown() {
        for pool in byLoop.values { pool.eventLoop.execute { pool.closeAll() } }
    }
}
