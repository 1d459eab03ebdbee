import AgentSandbox
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Wraps Hummingbird's child channel (HTTP/1 with WebSocket upgrade) with the listener's protections:
/// a connection over a cap is closed before any HTTP handler exists; an admitted one gets
/// `ConnectionGuard` in front of the HTTP codec and `RequestGuard` right after its decoder.
///
/// Everything else — routing, WebSocket upgrades, keep-alive — stays Hummingbird's.
struct GuardedChildChannel<Inner: ServerChildChannel>: ServerChildChannel {
    typealias Value = Inner.Value

    let inner: Inner
    let limits: ListenerLimits
    let limiter: ConnectionLimiter
    let precheck: RequestPrecheck

    /// Raised to refuse a connection over a cap (the bootstrap then closes it).
    struct ConnectionRefused: Error {}

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let peer = channel.remoteAddress?.ipAddress ?? "unknown"
        if limiter.admit(peer) != nil {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ConnectionRefused())
        }
        let limiter = self.limiter
        channel.closeFuture.whenComplete { _ in limiter.release(peer) }
        let connection = ConnectionGuard(limits: limits)
        do {
            try channel.pipeline.syncOperations.addHandler(connection, position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        let (limits, precheck) = (self.limits, self.precheck)
        return inner.setup(channel: channel, logger: logger).assumeIsolated().flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            // NIO's order is [response encoder, request decoder, upgrade handler]: right after the decoder,
            // the guard sees parsed parts inbound and writes parts that still pass the encoder outbound.
            let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try operations.addHandler(RequestGuard(connection: connection, limits: limits, precheck: precheck), position: .after(decoder))
            return value
        }.nonisolated()
    }

    /// Hummingbird's WebSocket-upgrade channel logs an *error* for every connection that closes before
    /// its first request reached the upgrade handler — which the guards do on purpose (timeouts, refused
    /// heads, lingering closes). Its connection handling logs nothing else above debug, so its logger here
    /// only reports critical events; requests are logged by the responder, WebSocket sessions by `setup`'s logger.
    func handle(value: Value, logger: Logger) async {
        var quiet = logger
        quiet.logLevel = .critical
        await inner.handle(value: value, logger: quiet)
    }
}

extension ListenerLimits {
    /// The HTTP decoder's own limits (NIO's llhttp wrapper): field size, head size, field count.
    var decoderConfiguration: HTTP1Channel.Configuration.DecoderConfiguration {
        .init(maxHeaderFieldSize: maxHeaderFieldBytes, maxHeaderListSize: maxHeaderBytes, maxHeaderFieldCount: maxHeaderCount)
    }
}
