import AgentSandbox
import NIOCore
import NIOHTTP1
import NIOPosix

/// Kept-alive connections to the nodes for the gateway's fast path, one pool per event loop: a
/// connection is opened on the loop of the client connection that needs it and reused only by client
/// connections of that loop, so an exchange never leaves its thread and the pool needs no lock. The
/// policy is `UpstreamPool`'s (`IdleConnections`): a connection comes back only after a clean exchange
/// (decided by `FastPathHandler`), and one the node closes leaves at once.
final class FastPathPool: @unchecked Sendable {
    /// Where a node is reached, parsed once per advertised URL.
    struct Address {
        let host: String
        let port: Int
        /// `host:port`, the key its connections are filed under.
        let key: String
    }

    let eventLoop: any EventLoop
    let connectTimeout = TimeAmount.seconds(3)
    // Touched only on `eventLoop` (hence `@unchecked Sendable`: the pools are shared, their contents are not).
    private var idle = IdleConnections<FastPathUpstream>()
    private var addresses: [String: Address] = [:]

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
        let (found, stale) = idle.take(key, isOpen: { $0.isActive })
        for upstream in stale { upstream.close() }
        return found
    }

    /// Parks `upstream` for the next exchange, or closes it (pool full or shut down).
    func park(_ upstream: FastPathUpstream) {
        guard upstream.isActive, idle.park(upstream, key: upstream.key) else { return upstream.close() }
    }

    /// Removes a closed connection.
    func forget(_ upstream: FastPathUpstream) {
        idle.forget(under: upstream.key, where: { $0 === upstream })
    }

    /// Closes the idle connections to `key` (its node stopped answering).
    func drop(_ key: String) {
        for upstream in idle.drop(key) { upstream.close() }
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
                    // The heads sent are the client's, already parsed by this gateway's HTTP decoder, with
                    // fields of our own: NIO's outbound header check would only re-read them per call.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(enableOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(FastPathUpstream(key: key, pool: pool))
                }
            }
            .connect(host: address.host, port: address.port)
    }

    /// Closes every idle connection; later ones are closed as they come back.
    func closeAll() {
        for upstream in idle.closeAll() { upstream.close() }
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
