import NIOCore
import NIOHTTP1

/// What a `FastPathUpstream` reports to the exchange it serves, on the event loop both share.
protocol FastPathUpstreamDelegate: AnyObject {
    /// The response head (the first part of the answer).
    func upstreamHead(_ head: HTTPResponseHead)
    /// A piece of the response body.
    func upstreamBody(_ buffer: ByteBuffer)
    /// The end of one read burst: what was relayed may be flushed.
    func upstreamReadComplete()
    /// The response ended; `upstream` no longer reports to this delegate and may be parked.
    func upstreamEnded(_ upstream: FastPathUpstream)
    /// The connection closed (or failed) before the response ended.
    func upstreamFailed(_ upstream: FastPathUpstream)
    /// Whether the client's connection takes more bytes now (reading the upstream waits otherwise).
    var downstreamWritable: Bool { get }
}

/// The last handler of a kept-alive connection from a gateway to a node, used by the gateway's fast
/// path (`FastPathHandler`) on the event loop of the client's connection: it sends one request at a
/// time and hands each part of the answer straight to the exchange's delegate — no task, no stream, no
/// thread hop. It stays in the pipeline for the connection's life; between exchanges it waits in its
/// loop's `FastPathPool` with no delegate (anything the node sends then closes the connection).
///
/// Back-pressure: while the client's connection is not writable, reads from the node are held back
/// (`resumeReading` asks again once it is).
final class FastPathUpstream: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// The upstream's pool key (`host:port`).
    let key: String
    private let pool: FastPathPool
    private var context: ChannelHandlerContext?
    private var delegate: (any FastPathUpstreamDelegate)?
    private var heldRead = false
    /// The request of the current exchange was written whole (its last write succeeded).
    private(set) var requestSent = false

    init(key: String, pool: FastPathPool) {
        self.key = key
        self.pool = pool
    }

    var isActive: Bool { context?.channel.isActive ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Sends `head` and `body` in one flush; the answer goes to `delegate`.
    func send(_ head: HTTPRequestHead, body: ByteBuffer, to delegate: any FastPathUpstreamDelegate) {
        guard let context else { return delegate.upstreamFailed(self) }
        self.delegate = delegate
        requestSent = false
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let sent = context.eventLoop.makePromise(of: Void.self)
        sent.futureResult.assumeIsolated().whenSuccess { self.requestSent = true }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: sent)
    }

    /// Closes the connection without reporting to the delegate (the exchange gave up on it).
    func close() {
        delegate = nil
        context?.close(promise: nil)
    }

    /// Reads again if a read was held back while the client's connection was full.
    func resumeReading() {
        guard heldRead, let context else { return }
        heldRead = false
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let delegate else { return context.close(promise: nil) }  // nothing was asked
        switch unwrapInboundIn(data) {
        case .head(let head): delegate.upstreamHead(head)
        case .body(let buffer): delegate.upstreamBody(buffer)
        case .end:
            self.delegate = nil
            delegate.upstreamEnded(self)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        pool.forget(self)
        if let delegate {
            self.delegate = nil
            delegate.upstreamFailed(self)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if let delegate, !delegate.downstreamWritable {
            heldRead = true
        } else {
            context.read()
        }
    }
}
