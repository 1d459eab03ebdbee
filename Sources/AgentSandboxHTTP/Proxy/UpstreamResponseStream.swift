import AgentSandbox
import NIOCore
import NIOHTTP1

/// The upstream's response: its head as a future, then its body as an async sequence of
/// `UpstreamBodyPart`s with back-pressure. The last handler of the upstream pipeline gathers the body
/// buffers of one read burst (up to `maxMessagesPerRead` socket reads) and yields them as one part at
/// the burst's end (`channelReadComplete`, so nothing waits for more data: server-sent events pass as
/// they come); the client's side writes each part in one go. One hand-over per burst instead of one per
/// buffer: fewer thread hops and one `writev` for several buffers. The reader stops reading the socket
/// while the consumer (the client's connection) is behind, so a slow client slows the upstream instead of
/// filling memory. Ends with the connection; a connection lost mid-response ends it with an error.
typealias UpstreamResponseStream = NIOThrowingAsyncSequenceProducer<
    UpstreamBodyPart, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, UpstreamResponseReader.Demand
>

/// A piece of the upstream's response body as it goes to the client.
enum UpstreamBodyPart: Sendable {
    /// The body bytes of one read burst, in order.
    case body([ByteBuffer])
    /// The end of the body, with the upstream's trailers if it sent any.
    case end(HTTPHeaders?)
}

/// See `UpstreamResponseStream`. Runs on the upstream channel's event loop.
final class UpstreamResponseReader: ChannelDuplexHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart

    /// The consumer's demand, signalled from any thread, acted on on the event loop.
    struct Demand: NIOAsyncSequenceProducerDelegate {
        let reader: UpstreamResponseReader
        let eventLoop: any EventLoop

        func produceMore() { eventLoop.execute { reader.resume() } }
        func didTerminate() { eventLoop.execute { reader.consumerLeft() } }
    }

    /// The final (non-1xx) response head; failed when the connection ends before one arrives.
    let head: EventLoopPromise<HTTPResponseHead>
    private var headReceived = false
    /// The response's end was handed over: the connection may outlive this reader (a pooled one).
    private var ended = false
    private var source: UpstreamResponseStream.Source?
    private var context: ChannelHandlerContext?
    private var producing = true
    private var readPending = false
    /// Body buffers of the current read burst, yielded together at its end.
    private var burst: [ByteBuffer] = []

    private init(head: EventLoopPromise<HTTPResponseHead>) { self.head = head }

    /// Adds a reader at the end of `channel`'s pipeline; returns the head's future, the body parts and the
    /// reader (removed again when a pooled connection is parked). On the channel's event loop.
    static func installNow(on channel: any Channel) throws -> (EventLoopFuture<HTTPResponseHead>, UpstreamResponseStream, UpstreamResponseReader) {
        let reader = UpstreamResponseReader(head: channel.eventLoop.makePromise())
        let made = UpstreamResponseStream.makeSequence(
            // Counted in bursts (each up to `maxMessagesPerRead` reads of at most 1 MiB).
            backPressureStrategy: .init(lowWatermark: 1, highWatermark: 2),
            finishOnDeinit: false,
            delegate: Demand(reader: reader, eventLoop: channel.eventLoop))
        reader.source = made.source
        try channel.pipeline.syncOperations.addHandler(reader)
        return (reader.head.futureResult, made.sequence, reader)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        source?.finish()
        source = nil
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let response) where !headReceived:
            // 1xx answers (other than an upgrade's 101) are interim: the final head follows.
            if response.status.code < 200, response.status != .switchingProtocols { return }
            headReceived = true
            head.succeed(response)
        case .head:
            return  // a second head on one request cannot happen; ignored
        case .body(let buffer):
            burst.append(buffer)
        case .end(let trailers):
            yieldBurst()
            ended = true
            yield(.end(trailers))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        yieldBurst()
        context.fireChannelReadComplete()
    }

    private func yieldBurst() {
        guard !burst.isEmpty else { return }
        yield(.body(burst))
        burst = []
    }

    private func yield(_ part: UpstreamBodyPart) {
        if source?.yield(part) == .stopProducing { producing = false }
    }

    func channelInactive(context: ChannelHandlerContext) {
        yieldBurst()
        if !headReceived { head.fail(ToolError(.upstreamUnavailable, "The upstream closed the connection (or did not answer in time) before sending a response. Check its log for a crash, and that it answers within 300 s, then retry.")) }
        source?.finish()
        source = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !headReceived {
            headReceived = true
            head.fail(ToolError(.upstreamUnavailable, "The upstream's answer could not be read. Check that the port serves plain HTTP/1.1 (not TLS or another protocol), then retry (\(UpstreamErrorDetail.describe(error)))."))
        }
        source?.finish(error)
        source = nil
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if producing { context.read() } else { readPending = true }
    }

    private func resume() {
        producing = true
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    /// The consumer stopped iterating (the client left): nothing reads this connection any more.
    private func consumerLeft() {
        source = nil
        if !ended { context?.close(promise: nil) }
    }
}
