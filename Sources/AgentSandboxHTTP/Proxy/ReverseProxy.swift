import AgentSandbox
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

/// A streaming HTTP/1.1 reverse proxy for one request: one upstream connection per request, the
/// client's body streamed up while the upstream's answer streams down (neither is ever held whole, so
/// archives of any size and server-sent events pass as they come), hop-by-hop headers dropped and
/// `X-Forwarded-*` added (`ProxyHeaders`). WebSocket upgrades go through `WebSocketProxy` instead.
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
    public static func forward(_ request: Request, to target: ProxyTarget) async throws -> Response {
        let channel = try await target.connector.connect { channel in
            // Encoder and decoder together: the decoder sees each request's method (a HEAD answer has no body).
            channel.pipeline.addHTTPClientHandlers()
        }
        let head: HTTPResponseHead, parts: UpstreamResponseStream, upload: Task<Void, any Error>
        do {
            let (headFuture, stream) = try await UpstreamResponseReader.install(on: channel).get()
            parts = stream
            try await channel.writeAndFlush(HTTPClientRequestPart.head(ProxyHeaders.upstreamHead(request.head, target: target))).get()
            upload = Task {
                do {
                    try await sendBody(request.body, to: channel)
                } catch {
                    channel.close(promise: nil)  // the client left mid-body: no answer will be wanted
                    throw error
                }
            }
            // An upstream that never answers must not hold the exchange forever.
            let deadline = channel.eventLoop.scheduleTask(in: target.responseTimeout) { channel.close(promise: nil) }
            defer { deadline.cancel() }
            do {
                head = try await headFuture.get()
            } catch {
                channel.close(promise: nil)
                _ = await upload.result
                throw error
            }
        } catch let error as ToolError {
            channel.close(promise: nil)
            throw error
        } catch {
            channel.close(promise: nil)
            throw ToolError(.upstreamUnavailable, "\(target.connector.name) broke off the exchange: \(error).")
        }
        let status = HTTPResponse.Status(code: Int(head.status.code), reasonPhrase: head.status.reasonPhrase)
        return Response(status: status, headers: ProxyHeaders.downstreamFields(head.headers), body: ResponseBody { writer in
            defer { channel.close(promise: nil) }
            for try await part in parts {
                switch part {
                case .body(let buffer): try await writer.write(buffer)
                case .end(let trailers):
                    channel.close(promise: nil)
                    _ = await upload.result
                    return try await writer.finish(trailers.map(ProxyHeaders.downstreamFields))
                case .head: continue  // a second head on one request cannot happen; ignored
                }
            }
            throw ToolError(.upstreamUnavailable, "\(target.connector.name) closed the connection in the middle of its response.")
        })
    }

    /// Streams the client's body upstream, one chunk at a time (each write waits for the socket).
    private static func sendBody(_ body: RequestBody, to channel: any Channel) async throws {
        for try await buffer in body {
            try await channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(buffer))).get()
        }
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
    }
}
