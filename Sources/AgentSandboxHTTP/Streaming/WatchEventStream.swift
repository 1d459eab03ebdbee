import AgentSandbox
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Streams a watch's events as Server-Sent Events (`WatchEvent.sse`), each batch flushed at once.
///
/// The watch is closed — its thread ends and its inotify descriptor is closed — when the client leaves
/// (noticed at once through Hummingbird's inbound-close handler, as `ExecEventStream` does), when the
/// agent is deleted (the event stream ends), or after `timeout` seconds.
enum WatchEventStream {
    static func response(_ stream: WatchService.Stream, request: Request, timeout: Double?) -> Response {
        var headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"]
        headers[HTTPField.Name("x-accel-buffering")!] = "no"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let deadline = timeout.map { seconds in
                Task {
                    try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                    stream.close()
                }
            }
            defer {
                deadline?.cancel()
                stream.close()
            }
            var request = request
            // The request has no body: hand Hummingbird an empty one, so it watches the connection's end.
            request.body = RequestBody(buffer: ByteBuffer())
            try await request.body.consumeWithInboundCloseHandler { _ in
                try await writer.write(ByteBuffer(string: ": watch\n\n"))
                var id: UInt64 = 0
                var iterator = stream.events.makeAsyncIterator()
                while let event = await iterator.next() {
                    var buffer = ByteBuffer()
                    if event.kind != .keepAlive { id += 1 }
                    event.sse(id: id, into: &buffer)
                    try await writer.write(buffer)
                }
            } onInboundClosed: {
                stream.close()
            }
            try await writer.finish(nil)
        })
    }
}
