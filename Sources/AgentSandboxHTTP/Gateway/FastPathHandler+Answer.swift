import AgentSandbox
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// The answer side of `FastPathHandler`: what the node sends, relayed to the client, and the ways an
/// exchange ends (answered, answered with the slow path's 503, handed to the routes, abandoned).
extension FastPathHandler {
    /// Fails the exchange whose node sent no response head within `GatewayFastPath.responseTimeout`.
    func watch(after delay: TimeAmount, context: ChannelHandlerContext) {
        watchdog = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            self.watchdog = nil
            guard let exchange = self.exchange, exchange.phase == .waiting else { return }
            let due = exchange.sentAt + GatewayFastPath.responseTimeout
            guard due <= .now() else { return self.watch(after: due - .now(), context: context) }
            exchange.upstream?.close()
            exchange.upstream = nil
            self.answer(self.fastPath.nodeFailed(exchange.plan), exchange, context: context)
        }
    }

    // MARK: The node's answer

    var downstreamWritable: Bool { context?.channel.isWritable ?? false }

    func upstreamHead(_ head: HTTPResponseHead) {
        guard let exchange, let context else { return }
        exchange.upstreamKeepAlive = head.isKeepAlive
        if head.status == .conflict, head.headers.contains(name: "retry-after") {
            // The node no longer owns the agent: the routes ask the store again (after reading this answer out).
            exchange.phase = .refused
            fastPath.catalog.invalidate(exchange.plan.agent)
            return
        }
        exchange.phase = .relaying
        var headers = head.headers
        ProxyHeaders.removeHopByHop(from: &headers)
        headers.replaceOrAdd(name: "x-request-id", value: exchange.requestID)
        headers.replaceOrAdd(name: "server", value: fastPath.serverName)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: head.status, headers: headers))), promise: nil)
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        guard let exchange, exchange.phase == .relaying, let context else { return }
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }

    func upstreamReadComplete() {
        guard let exchange, exchange.phase == .relaying else { return }
        context?.flush()
    }

    func upstreamEnded(_ upstream: FastPathUpstream) {
        guard let exchange, exchange.upstream === upstream, let context else { return upstream.close() }
        exchange.upstream = nil
        // A clean exchange: the request went whole, the answer was read to its end, both sides keep alive.
        if exchange.upstreamKeepAlive, upstream.requestSent { exchange.plan.pool.park(upstream) } else { upstream.close() }
        if exchange.phase == .refused { return handBack(exchange, context: context) }
        fastPath.counters.countAnswered()  // before the answer can reach the client (tests read the count)
        endAnswer(context: context)
    }

    func upstreamFailed(_ upstream: FastPathUpstream) {
        guard let exchange, exchange.upstream === upstream, let context else { return }
        exchange.upstream = nil
        switch exchange.phase {
        case .relaying:
            // Part of the answer went out: the client can only learn of the failure by the connection's end.
            abandon()
            context.close(promise: nil)
        case .refused:
            handBack(exchange, context: context)
        case .waiting where exchange.reused:
            handBack(exchange, context: context)
        default:
            answer(fastPath.nodeFailed(exchange.plan), exchange, context: context)
        }
    }

    // MARK: Ends of an exchange

    /// The slow path's answer to `error` (`ErrorReply`, as `Response.error`), sent from here.
    func answer(_ error: ToolError, _ exchange: Exchange, context: ChannelHandlerContext) {
        let reply = ErrorReply(error)
        var fields = reply.headers
        fields[.contentLength] = String(reply.body.readableBytes)
        fields[.requestID] = exchange.requestID
        fields[.server] = fastPath.serverName
        fastPath.counters.countAnswered()
        context.write(wrapOutboundOut(.head(HTTPResponseHead(HTTPResponse(status: reply.status, headerFields: fields)))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(reply.body))), promise: nil)
        endAnswer(context: context)
    }

    /// Hands the held request to Hummingbird, as if it had just arrived.
    func handBack(_ exchange: Exchange, context: ChannelHandlerContext) {
        abandon()
        fastPath.counters.countHandedBack()
        slowResponsesPending += 1
        context.fireChannelRead(wrapInboundOut(.head(exchange.head)))
        if exchange.body.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.body(exchange.body))) }
        context.fireChannelRead(wrapInboundOut(.end(nil)))
        context.fireChannelReadComplete()
        if closeAfterExchange {
            // The routes answer it now, and Hummingbird closes the connection after that answer.
            closeAfterExchange = false
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        drain(context: context)
    }

    /// Ends the answer and the exchange. In a graceful stop the connection then closes, once the answer
    /// is written (closing at once would drop what the socket has not taken yet); requests the client
    /// pipelined behind it are not answered, as Hummingbird does.
    func endAnswer(context: ChannelHandlerContext) {
        guard closeAfterExchange else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return finish(context: context)
        }
        abandon()
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func finish(context: ChannelHandlerContext) {
        abandon()
        drain(context: context)
    }

    /// Ends the exchange under way, if any, closing its upstream connection if it still has one.
    func abandon() {
        guard let exchange else { return }
        self.exchange = nil
        exchange.upstream?.close()
        exchange.upstream = nil
    }
}
