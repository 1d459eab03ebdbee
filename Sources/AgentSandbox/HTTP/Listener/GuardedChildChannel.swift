import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Wraps Hummingbird's child channel (HTTP/1 with WebSocket upgrade) with the listener's protections:
/// a connection over a cap is closed before any HTTP handler exists; an admitted one gets
/// `ConnectionGuard` in front of the HTTP decoder and `RequestGuard` right after the HTTP codec.
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
            let encoder = try operations.handler(type: HTTPResponseEncoder.self)
            try operations.addHandler(RequestGuard(connection: connection, limits: limits, precheck: precheck), position: .after(encoder))
            return value
        }.nonisolated()
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension ListenerLimits {
    /// The HTTP decoder's own limits (NIO's llhttp wrapper): field size, head size, field count.
    var decoderConfiguration: HTTP1Channel.Configuration.DecoderConfiguration {
        .init(maxHeaderFieldSize: maxHeaderFieldBytes, maxHeaderListSize: maxHeaderBytes, maxHeaderFieldCount: maxHeaderCount)
    }
}
