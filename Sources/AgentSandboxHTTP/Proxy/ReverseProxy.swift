import AgentSandbox
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import Synchronization

/// A streaming HTTP/1.1 reverse proxy for one request: the client's body streamed up while the
/// upstream's answer streams down (neither is ever held whole, so archives of any size and server-sent
/// events pass as they come), hop-by-hop headers dropped and `X-Forwarded-*` added (`ProxyHeaders`).
/// WebSocket upgrades go through `WebSocketProxy` instead.
///
/// Without a pool each request gets a connection of its own, closed when its response ends. With an
/// `UpstreamPool` (the gateway's) a TCP upstream's connection is taken from the pool when one is idle,
/// and goes back to it when the exchange ended cleanly: request sent whole, response read to its end,
/// no upgrade, and keep-alive on both sides. A parked connection the upstream closed just before it was
/// taken (nothing was answered on it) is replaced by a new one and the request sent again. Only requests
/// the caller says can be sent twice (`replayable`: the body is held in memory) take a parked connection;
/// a streamed upload opens its own.
///
/// An upstream that cannot be reached, or that closes before its response head, is
/// `UPSTREAM_UNAVAILABLE` (502, the envelope); one that breaks off mid-body ends the client's response
/// early (the status has been sent), and the client sees a truncated body.
///
/// ```swift
/// router.get("/nodes/:n/**") { request, context in
///     try await ReverseProxy.forward(request, to: ProxyTarget(connector: .tcp(host: "10.0.0.7", port: 8080), pathAndQuery: "/healthz"))
/// }
/// ```
public enum ReverseProxy {
    public static func forward(_ request: Request, to target: ProxyTarget, pool: UpstreamPool? = nil, replayable: Bool = false) async throws -> Response {
        // A body the caller holds in memory goes up in the same write as the head (one hop to the
        // connection's event loop for the whole request) and can be sent twice.
        let body: Body = replayable ? .held(try await collect(request.body)) : .streamed(request.body)
        guard let pool, let key = target.connector.poolKey else {
            return try await exchange(request.head, body, target, channel: try await open(target), reuse: nil)
        }
        // A streamed body cannot be sent twice: it takes a new connection (parked afterwards all the same).
        if replayable, let channel = pool.take(key) {
            do {
                return try await exchange(request.head, body, target, channel: channel, reuse: (pool, key, staleRetry: true))
            } catch is StaleConnection {}  // the upstream had closed it: a new connection below
        }
        let channel = try await open(target)
        pool.opened(channel, key: key)
        return try await exchange(request.head, body, target, channel: channel, reuse: (pool, key, staleRetry: false))
    }

    /// The request body as it goes upstream.
    private enum Body {
        /// In memory (a tool call's JSON): written with the head.
        case held(ByteBuffer)
        /// Passed on chunk by chunk as the client sends it (an archive upload).
        case streamed(RequestBody)
    }

    /// The chunks of a body already in memory, as one buffer.
    private static func collect(_ body: RequestBody) async throws -> ByteBuffer {
        var all = ByteBuffer()
        for try await var chunk in body {
            if all.readableBytes == 0 { all = chunk } else { all.writeBuffer(&chunk) }
        }
        return all
    }

    /// A parked connection that turned out closed before anything was answered on it.
    private struct StaleConnection: Error {}

    private static func open(_ target: ProxyTarget) async throws -> any Channel {
        try await target.connector.connect { channel in
            // Encoder and decoder together: the decoder sees each request's method (a HEAD answer has no body).
            channel.pipeline.addHTTPClientHandlers()
        }
    }

    /// What one exchange on a connection learns as it goes (set from the upload task and the deadline).
    private final class Progress: Sendable {
        let uploaded = Mutex(false)
        let timedOut = Mutex(false)
    }

    /// One request/response on `channel`. `reuse`: the pool the connection goes back to after a clean
    /// exchange, and whether a stale parked connection may throw `StaleConnection` for a retry.
    private static func exchange(
        _ request: HTTPRequest, _ body: Body, _ target: ProxyTarget, channel: any Channel, reuse: (pool: UpstreamPool, key: String, staleRetry: Bool)?
    ) async throws -> Response {
        let progress = Progress()
        let upstreamHead = ProxyHeaders.upstreamHead(request, target: target)
        let head: HTTPResponseHead, parts: UpstreamResponseStream, reader: UpstreamResponseReader
        var upload: Task<Void, any Error>?
        do {
            // On the connection's event loop, in one go: the reader, the request (head, and a held body with
            // its end, flushed once), and the deadline for the answer's head.
            let (headFuture, stream, installed, deadline) = try await channel.eventLoop.submit {
                let (headFuture, stream, installed) = try UpstreamResponseReader.installNow(on: channel)
                channel.write(HTTPClientRequestPart.head(upstreamHead), promise: nil)
                if case .held(let buffer) = body {
                    if buffer.readableBytes > 0 { channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil) }
                    channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: sent(progress, on: channel))
                }
                // An upstream that never answers must not hold the exchange forever.
                let deadline = channel.eventLoop.scheduleTask(in: target.responseTimeout) {
                    progress.timedOut.withLock { $0 = true }
                    channel.close(promise: nil)
                }
                return (headFuture, stream, installed, deadline)
            }.get()
            defer { deadline.cancel() }
            parts = stream
            reader = installed
            if case .streamed(let streamed) = body {
                upload = Task {
                    do {
                        try await sendBody(streamed, to: channel, progress: progress)
                    } catch {
                        channel.close(promise: nil)  // the client left mid-body: no answer will be wanted
                        throw error
                    }
                }
            }
            do {
                head = try await headFuture.get()
            } catch {
                channel.close(promise: nil)
                _ = await upload?.result
                throw error
            }
        } catch {
            channel.close(promise: nil)
            if let reuse, reuse.staleRetry, !progress.timedOut.withLock({ $0 }) { throw StaleConnection() }
            if let error = error as? ToolError { throw error }
            throw ToolError(.upstreamUnavailable, "\(target.connector.name) broke off the exchange before answering. Check its log for a crash or a refused request, then retry (\(UpstreamErrorDetail.describe(error))).")
        }
        let upstreamUpload = upload
        let status = HTTPResponse.Status(code: Int(head.status.code), reasonPhrase: head.status.reasonPhrase)
        let fields = ProxyHeaders.downstreamFields(head.headers)
        let keepsAlive = head.isKeepAlive && head.status != .switchingProtocols
        // At the answer's end: the connection is parked after a clean exchange (the request went whole),
        // else closed once an upload still under way has given up. True when parked.
        let settle: @Sendable () async -> Bool = {
            if let reuse, keepsAlive, progress.uploaded.withLock({ $0 }) {
                park(channel, reader: reader, in: reuse.pool, key: reuse.key)
                return true
            }
            channel.close(promise: nil)
            _ = await upstreamUpload?.result
            return false
        }
        // A small answer of declared length (a tool call's JSON) is gathered — at most `smallAnswer` bytes,
        // the decoder holds the upstream to its Content-Length — and goes to the client in one write.
        if request.method != .head, let length = head.headers.first(name: "content-length").flatMap(Int.init), length <= smallAnswer {
            var collected = ByteBuffer()
            var ended = false
            do {
                gather: for try await part in parts {
                    switch part {
                    case .body(let buffers): for var buffer in buffers { collected.writeBuffer(&buffer) }
                    case .end:
                        ended = true
                        break gather
                    }
                }
            } catch {
                ended = false
            }
            guard ended else {
                channel.close(promise: nil)
                throw ToolError(.upstreamUnavailable, "\(target.connector.name) closed the connection in the middle of its response.")
            }
            _ = await settle()
            return Response(status: status, headers: fields, body: .init(byteBuffer: collected))
        }
        return Response(status: status, headers: fields, body: ResponseBody { writer in
            var parked = false
            defer { if !parked { channel.close(promise: nil) } }
            for try await part in parts {
                switch part {
                case .body(let buffers): try await writer.write(contentsOf: buffers)
                case .end(let trailers):
                    parked = await settle()
                    return try await writer.finish(trailers.map(ProxyHeaders.downstreamFields))
                }
            }
            throw ToolError(.upstreamUnavailable, "\(target.connector.name) closed the connection in the middle of its response.")
        })
    }

    /// Answers of at most this many bytes with a Content-Length are gathered and sent in one write;
    /// larger ones, and those of unknown length (SSE, archives), stream.
    static let smallAnswer = 64 << 10

    /// Takes this exchange's reader off `channel` and parks it for the next request (a read is asked
    /// for again: the reader may have held one back while its consumer was behind).
    private static func park(_ channel: any Channel, reader: UpstreamResponseReader, in pool: UpstreamPool, key: String) {
        let removed = channel.eventLoop.makePromise(of: Void.self)
        channel.pipeline.removeHandler(reader, promise: removed)
        removed.futureResult.whenComplete { result in
            guard case .success = result else { return channel.close(promise: nil) }
            channel.read()
            pool.park(channel, key: key)
        }
    }

    /// Streams the client's body upstream, one chunk at a time (each write waits for the socket); the
    /// head, written before, leaves with the first chunk.
    private static func sendBody(_ body: RequestBody, to channel: any Channel, progress: Progress) async throws {
        for try await buffer in body {
            try await channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(buffer))).get()
        }
        let end = sent(progress, on: channel)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: end)
        try await end.futureResult.get()
    }

    /// The promise of the request's last write: it marks the request sent on the event loop as soon as
    /// it is written — before the upstream can have read it, so before any of its answer is seen; the
    /// exchange's end then knows the request went whole.
    private static func sent(_ progress: Progress, on channel: any Channel) -> EventLoopPromise<Void> {
        let end = channel.eventLoop.makePromise(of: Void.self)
        end.futureResult.whenSuccess { progress.uploaded.withLock { $0 = true } }
        return end
    }
}
