import AgentSandbox
import Hummingbird
import NIOCore
import NIOHTTP1

/// One client connection's part of the gateway's fast path (`GatewayFastPath`), between NIO's HTTP/1
/// codec and the converter to Hummingbird's `HTTPTypes` parts (`FastPathHandler.Installer` puts it
/// there), on the connection's event loop. It reads and writes NIO's heads as the codecs make them:
/// a relayed call is never converted to `HTTPRequest` and back (the converter parses every target with
/// Foundation's `URLComponents`), only its hop-by-hop fields are changed (`ProxyHeaders`).
///
/// A request head the fast path takes is held with its body (at most `GatewayFastPath.bodyLimit`), then
/// sent in one flush on a kept-alive connection to the node from this loop's pool; the node's answer is
/// relayed part by part as it arrives, with the gateway's `x-request-id` (the client's when it sent a
/// sane one, as `RequestIDMiddleware`) and `Server`. Every other request passes on untouched.
///
/// Before the first byte of the answer went out, a failure hands the held request to Hummingbird
/// (`GatewayForwarder` retries, re-reads the store and answers `NODE_UNAVAILABLE` as it always did):
/// a node that cannot be reached, a pooled connection the node had closed, an answer 409 with
/// `Retry-After` (another gateway moved the agent). A fresh connection that breaks off, or a node that
/// sends no head within `GatewayFastPath.responseTimeout`, gets the slow path's own answer (503
/// `NODE_UNAVAILABLE`) without sending the call twice. After that first byte, a failure closes the
/// client's connection, as any proxy must.
///
/// Order is kept for pipelining clients: parts that arrive during an exchange wait until it ends, and
/// a request that follows one handed to Hummingbird goes there too while that one's answer is pending.
final class FastPathHandler: ChannelDuplexHandler, RemovableChannelHandler, FastPathUpstreamDelegate {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// One call on the fast path.
    final class Exchange {
        enum Phase { case gathering, connecting, waiting, relaying, refused }
        let plan: GatewayFastPath.Plan
        let head: HTTPRequestHead
        let requestID: String
        var body = ByteBuffer()
        var phase = Phase.gathering
        var upstream: FastPathUpstream?
        /// The connection came from the pool (the node may have closed it just before).
        var reused = false
        var upstreamKeepAlive = false
        /// When the request went to the node (its head is due within `GatewayFastPath.responseTimeout`).
        var sentAt = NIODeadline.now()

        init(plan: GatewayFastPath.Plan, head: HTTPRequestHead, requestID: String) {
            self.plan = plan
            self.head = head
            self.requestID = requestID
        }
    }

    let fastPath: GatewayFastPath
    private(set) var context: ChannelHandlerContext?
    var exchange: Exchange?
    /// The parts of a request handed to Hummingbird are passing (until its end).
    private var passing = false
    /// Requests handed to Hummingbird whose answer has not ended yet.
    var slowResponsesPending = 0
    /// Parts (of pipelined requests) that arrived during an exchange; reading stops while there are some.
    private var queued = CircularBuffer<HTTPServerRequestPart>()
    private var heldRead = false
    private var heldInputClosed = false
    /// The server is stopping gracefully: the connection closes once the exchange under way is answered.
    var closeAfterExchange = false
    /// One timer per connection, not per call: it checks the exchange waiting when it fires, and is set
    /// again for the rest of that exchange's time (scheduling and cancelling a timer per call is a few
    /// per cent of the fast path's CPU).
    var watchdog: Scheduled<Void>?

    init(fastPath: GatewayFastPath) {
        self.fastPath = fastPath
    }

    /// An exchange is past gathering its request: new input waits.
    private var isExchanging: Bool { exchange.map { $0.phase != .gathering } ?? false }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        abandon()
        watchdog?.cancel()
        watchdog = nil
    }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if closeAfterExchange, exchange == nil { return }  // closing (a graceful stop): nothing more is answered
        if isExchanging { return queued.append(part) }
        handle(part, context: context)
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            if slowResponsesPending == 0, !passing, let plan = fastPath.plan(for: head, on: context.eventLoop) {
                let id = head.headers.first(name: "x-request-id").flatMap(RequestIDMiddleware<BasicRequestContext>.accepted)
                exchange = Exchange(plan: plan, head: head, requestID: id ?? RequestIDMiddleware<BasicRequestContext>.generate())
            } else {
                passing = true
                slowResponsesPending += 1
                context.fireChannelRead(wrapInboundOut(part))
            }
        case .body(var buffer):
            guard let exchange else { return context.fireChannelRead(wrapInboundOut(part)) }
            if exchange.body.readableBytes == 0 { exchange.body = buffer } else { exchange.body.writeBuffer(&buffer) }
        case .end:
            guard let exchange else {
                passing = false
                return context.fireChannelRead(wrapInboundOut(part))
            }
            send(exchange, context: context)
        }
    }

    private func send(_ exchange: Exchange, context: ChannelHandlerContext) {
        exchange.phase = .connecting
        let plan = exchange.plan
        if let upstream = plan.pool.take(plan.address.key) {
            exchange.reused = true
            return start(exchange, on: upstream, context: context)
        }
        plan.pool.connect(to: plan.address).assumeIsolated().whenComplete { result in
            let upstream = try? result.get().pipeline.syncOperations.handler(type: FastPathUpstream.self)
            guard self.exchange === exchange else { return upstream?.close() ?? () }  // the client left meanwhile
            guard let upstream else { return self.handBack(exchange, context: context) }
            self.start(exchange, on: upstream, context: context)
        }
    }

    private func start(_ exchange: Exchange, on upstream: FastPathUpstream, context: ChannelHandlerContext) {
        exchange.upstream = upstream
        exchange.phase = .waiting
        exchange.sentAt = .now()
        if watchdog == nil { watch(after: GatewayFastPath.responseTimeout, context: context) }
        upstream.send(
            ProxyHeaders.upstreamHead(relaying: exchange.head, pathAndQuery: exchange.plan.path, requestID: exchange.requestID), body: exchange.body, to: self)
    }

    /// Handles what arrived during the exchange, then reads again.
    func drain(context: ChannelHandlerContext) {
        var handled = false
        while !isExchanging, let part = queued.popFirst() {
            handle(part, context: context)
            handled = true
        }
        if handled { context.fireChannelReadComplete() }
        guard !isExchanging else { return }
        if heldInputClosed, queued.isEmpty {
            heldInputClosed = false
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
        if heldRead {
            heldRead = false
            context.read()
        }
    }

    // MARK: Channel events

    /// Reading stops only for a client that sends more during an exchange (pipelining), so its parts
    /// queue no further; holding every read would cost two `epoll_ctl` calls per call.
    func read(context: ChannelHandlerContext) {
        if isExchanging, !queued.isEmpty { heldRead = true } else { context.read() }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Hummingbird's answers pass here; their ends are counted so that order is kept.
        if case .end = unwrapOutboundIn(data), slowResponsesPending > 0 { slowResponsesPending -= 1 }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A client that half-closes after its request still gets the answer: Hummingbird, told of the end of
        // input, would close the connection's output before the exchange ends.
        if exchange != nil, let event = event as? ChannelEvent, event == .inputClosed {
            heldInputClosed = true
            return
        }
        // A graceful stop: Hummingbird closes at once a connection it sees idle, and it does not see the
        // exchange under way, so the connection closes here once that is answered (`endAnswer`).
        if exchange != nil, event is ChannelShouldQuiesceEvent {
            closeAfterExchange = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { exchange?.upstream?.resumeReading() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        abandon()  // the client left: its upstream connection is closed, not parked
        queued.removeAll()
        watchdog?.cancel()
        watchdog = nil
        context.fireChannelInactive()
    }
}
