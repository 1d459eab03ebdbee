import AgentSandbox
import NIOCore
import NIOHTTP1

/// The upstream's response: its head as a future, then its body parts (`.body`, `.end`) as an async
/// sequence with back-pressure. The last handler of the upstream pipeline yields each part into a `NIOThrowingAsyncSequenceProducer` and stops reading the
/// socket while the consumer (the client's connection) is behind, so a slow client slows the upstream
/// instead of filling memory. Ends with the connection; a connection lost mid-response ends it with
/// an error.
typealias UpstreamResponseStream = NIOThrowingAsyncSequenceProducer<
    HTTPClientResponsePart, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, UpstreamResponseReader.Demand
>

/// See `UpstreamResponseStream`. Runs on the upstream channel's event loop.
final class UpstreamResponseReader: ChannelDuplexHandler, @unchecked Sendable {
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
    private var source: UpstreamResponseStream.Source?
    private var context: ChannelHandlerContext?
    private var producing = true
    private var readPending = false

    private init(head: EventLoopPromise<HTTPResponseHead>) { self.head = head }

    /// Adds a reader at the end of `channel`'s pipeline; returns the head's future and the body parts.
    static func install(on channel: any Channel) -> EventLoopFuture<(EventLoopFuture<HTTPResponseHead>, UpstreamResponseStream)> {
        channel.eventLoop.submit {
            let reader = UpstreamResponseReader(head: channel.eventLoop.makePromise())
            let made = UpstreamResponseStream.makeSequence(
                backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8),
                finishOnDeinit: false,
                delegate: Demand(reader: reader, eventLoop: channel.eventLoop))
            reader.source = made.source
            try channel.pipeline.syncOperations.addHandler(reader)
            return (reader.head.futureResult, made.sequence)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .head(let response) = part, !headReceived {
            // 1xx answers (other than an upgrade's 101) are interim: the final head follows.
            if response.status.code < 200, response.status != .switchingProtocols { return }
            headReceived = true
            return head.succeed(response)
        }
        if source?.yield(part) == .stopProducing { producing = false }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !headReceived { head.fail(ToolError(.upstreamUnavailable, "The upstream closed the connection (or did not answer in time) before sending a response.")) }
        source?.finish()
        source = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !headReceived {
            headReceived = true
            head.fail(ToolError(.upstreamUnavailable, "The upstream's answer could not be read: \(error)."))
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
        context?.close(promise: nil)
    }
}
