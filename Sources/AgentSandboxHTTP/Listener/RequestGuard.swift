import AgentSandbox
import NIOCore
import NIOHTTP1

/// Decides, for a request head, whether to refuse it before the router sees it (e.g. 413 by its
/// Content-Length); `expectsContinue` when the client waits for `100 Continue` before sending the body.
typealias RequestPrecheck = @Sendable (_ head: HTTPRequestHead, _ expectsContinue: Bool) -> ToolError?

/// Sits right after the HTTP/1 codec and watches each request and its response:
///
/// - a parse error (garbage, an unknown method, `Content-Length: -1`, a bad chunk size, an oversized
///   head) gets its 400/431 and a close — never silence, never a 500;
/// - `Expect: 100-continue` gets `100 Continue`, or the final status at once when `precheck` refuses;
/// - an answer sent before the request body was read carries `Connection: close`, and the connection
///   then lingers (see `ConnectionGuard`) so the client can read it.
///
/// Requests are counted rather than flagged so pipelined requests are matched to their responses.
final class RequestGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let connection: ConnectionGuard
    private let limits: ListenerLimits
    private let precheck: RequestPrecheck
    private var headsReceived = 0
    private var endsReceived = 0
    private var responsesDone = 0
    /// The request under way was answered by this handler; its remaining parts are dropped.
    private var refusing = false
    /// The response under way went out early (or the request failed to parse): close after it.
    private var closeAfterResponse = false
    /// A parse error that belongs to a request after the one being answered.
    private var pendingRefusal: ToolError?
    /// A WebSocket upgrade was asked for: frames follow, not HTTP.
    private var transparent = false

    init(connection: ConnectionGuard, limits: ListenerLimits, precheck: @escaping RequestPrecheck) {
        self.connection = connection
        self.limits = limits
        self.precheck = precheck
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if transparent { return context.fireChannelRead(data) }
        switch unwrapInboundIn(data) {
        case .head(let head):
            headsReceived += 1
            connection.headReceived()
            if head.headers.contains(name: "upgrade"), head.headers["upgrade"].contains(where: { $0.lowercased() == "websocket" }) {
                // An upgrade can be refused from its head alone (the terminal's exec token): with the
                // status and envelope, before the WebSocket handshake.
                if let refusal = precheck(head, false) {
                    refusing = true
                    return answer(refusal, version: head.version, context: context)
                }
                transparent = true
                connection.passThrough()
                return context.fireChannelRead(data)
            }
            // CONNECT asks for a tunnel; the parser stops at its head, so the connection ends with the answer.
            if head.method == .CONNECT { closeAfterResponse = true }
            let expectsContinue = head.version != .http1_0 && head.headers.contains(name: "expect")
                && head.headers["expect"].contains { $0.lowercased() == "100-continue" }
            if let refusal = precheck(head, expectsContinue) {
                refusing = true
                return answer(refusal, version: head.version, context: context)
            }
            if expectsContinue {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
            context.fireChannelRead(data)
        case .body:
            if !refusing { context.fireChannelRead(data) }
        case .end:
            endsReceived += 1
            if refusing { return }
            context.fireChannelRead(data)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if transparent || !(error is HTTPParserError) { return context.fireErrorCaught(error) }
        let refusal = ListenerRefusal.parseFailure(error, limits: limits)
        if refusing {
            return  // already answered; the rest of the input is being dropped
        } else if endsReceived < headsReceived {
            // The body of a request the router is reading is malformed: the router answers 400.
            closeAfterResponse = true
            context.fireErrorCaught(refusal)
        } else if responsesDone < headsReceived {
            pendingRefusal = refusal  // answered after the response under way
        } else {
            answer(refusal, version: .http1_1, context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if transparent { return context.write(data, promise: promise) }
        switch unwrapOutboundIn(data) {
        case .head(var head):
            if head.status.code >= 200, endsReceived <= responsesDone || closeAfterResponse {
                // Answered before its body was read (or unreadable): the connection cannot be reused.
                closeAfterResponse = true
                head.headers.replaceOrAdd(name: "connection", value: "close")
                return context.write(wrapOutboundOut(.head(head)), promise: promise)
            }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            guard closeAfterResponse, pendingRefusal == nil else {
                context.write(data, promise: promise)
                return responseFinished(context: context)
            }
            // The connection ends once this is written: that needs the write's future.
            let written = promise ?? context.eventLoop.makePromise(of: Void.self)
            context.write(data, promise: written)
            responseFinished(context: context, written: written.futureResult)
        }
    }

    /// `written` (when the connection closes after this response): the future of its last write.
    private func responseFinished(context: ChannelHandlerContext, written: EventLoopFuture<Void>? = nil) {
        responsesDone += 1
        if let pendingRefusal {
            self.pendingRefusal = nil
            return answer(pendingRefusal, version: .http1_1, context: context)
        }
        if closeAfterResponse, let written {
            if endsReceived < headsReceived {
                connection.linger(after: written)
            } else {
                written.assumeIsolated().whenComplete { _ in self.connection.close() }
            }
        } else if responsesDone == headsReceived, endsReceived == headsReceived {
            connection.exchangeFinished()
        }
    }

    /// Answers with `error` from here (the router never sees the request), then lingers or closes.
    private func answer(_ error: ToolError, version: HTTPVersion, context: ChannelHandlerContext) {
        refusing = true
        let parts = ListenerRefusal.parts(error, version: version)
        let written = context.eventLoop.makePromise(of: Void.self)
        for (index, part) in parts.enumerated() {
            context.write(wrapOutboundOut(part), promise: index == parts.count - 1 ? written : nil)
        }
        context.flush()
        // Linger even when the request looked complete: after a parse error the rest of the input is
        // unknown, and closing with unread bytes would reset the connection before the answer is read.
        connection.linger(after: written.futureResult)
    }
}
