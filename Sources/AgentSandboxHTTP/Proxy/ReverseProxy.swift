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
        guard let pool, let key = target.connector.poolKey else {
            return try await exchange(request, target, channel: try await open(target), reuse: nil)
        }
        // A streamed body cannot be sent twice: it takes a new connection (parked afterwards all the same).
        if replayable, let channel = pool.take(key) {
            do {
                return try await exchange(request, target, channel: channel, reuse: (pool, key, staleRetry: true))
            } catch is StaleConnection {}  // the upstream had closed it: a new connection below
        }
        let channel = try await open(target)
        pool.opened(channel, key: key)
        return try await exchange(request, target, channel: channel, reuse: (pool, key, staleRetry: false))
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
        _ request: Request, _ target: ProxyTarget, channel: any Channel, reuse: (pool: UpstreamPool, key: String, staleRetry: Bool)?
    ) async throws -> Response {
        let progress = Progress()
        let head: HTTPResponseHead, parts: UpstreamResponseStream, upload: Task<Void, any Error>, reader: UpstreamResponseReader
        do {
            let (headFuture, stream, installed) = try await UpstreamResponseReader.install(on: channel).get()
            parts = stream
            reader = installed
            // Not flushed on its own: it leaves with the first body chunk (a tool call's head, body and end
            // in one write). A failed write closes the channel, which fails the head's future below.
            channel.write(HTTPClientRequestPart.head(ProxyHeaders.upstreamHead(request.head, target: target)), promise: nil)
            upload = Task {
                do {
                    try await sendBody(request.body, to: channel, progress: progress)
                } catch {
                    channel.close(promise: nil)  // the client left mid-body: no answer will be wanted
                    throw error
                }
            }
            // An upstream that never answers must not hold the exchange forever.
            let deadline = channel.eventLoop.scheduleTask(in: target.responseTimeout) {
                progress.timedOut.withLock { $0 = true }
                channel.close(promise: nil)
            }
            defer { deadline.cancel() }
            do {
                head = try await headFuture.get()
            } catch {
                channel.close(promise: nil)
                _ = await upload.result
                throw error
            }
        } catch {
            channel.close(promise: nil)
            if let reuse, reuse.staleRetry, !progress.timedOut.withLock({ $0 }) { throw StaleConnection() }
            if let error = error as? ToolError { throw error }
            throw ToolError(.upstreamUnavailable, "\(target.connector.name) broke off the exchange before answering. Check its log for a crash or a refused request, then retry (\(UpstreamErrorDetail.describe(error))).")
        }
        let status = HTTPResponse.Status(code: Int(head.status.code), reasonPhrase: head.status.reasonPhrase)
        return Response(status: status, headers: ProxyHeaders.downstreamFields(head.headers), body: ResponseBody { writer in
            var parked = false
            defer { if !parked { channel.close(promise: nil) } }
            for try await part in parts {
                switch part {
                case .body(let buffers): try await writer.write(contentsOf: buffers)
                case .end(let trailers):
                    if let reuse, progress.uploaded.withLock({ $0 }), head.isKeepAlive, head.status != .switchingProtocols {
                        parked = true
                        park(channel, reader: reader, in: reuse.pool, key: reuse.key)
                    } else {
                        channel.close(promise: nil)
                        _ = await upload.result
                    }
                    return try await writer.finish(trailers.map(ProxyHeaders.downstreamFields))
                }
            }
            throw ToolError(.upstreamUnavailable, "\(target.connector.name) closed the connection in the middle of its response.")
        })
    }

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

    /// Streams the client's body upstream, one chunk at a time (each write waits for the socket). The
    /// end is marked sent on the event loop as soon as it is written — before the upstream can have read
    /// it, so before any of its answer is seen: the exchange's end then knows the request went whole.
    private static func sendBody(_ body: RequestBody, to channel: any Channel, progress: Progress) async throws {
        for try await buffer in body {
            try await channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(buffer))).get()
        }
        let end = channel.eventLoop.makePromise(of: Void.self)
        end.futureResult.whenSuccess { progress.uploaded.withLock { $0 = true } }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: end)
        try await end.futureResult.get()
    }
}
