import AgentSandbox
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Streams a session's events as Server-Sent Events: the buffered output from the cursor first, then
/// live output as it is produced (each batch flushed at once), ending with the `exit` event.
///
/// Memory stays bounded for slow clients: nothing is queued per client; a client that falls behind the
/// ring buffer gets a `dropped` event instead of the bytes it missed.
enum ExecEventStream {
    /// Largest batch of output written at once.
    static let batchBytes = 256 << 10
    /// A comment line is sent after this much silence: keeps proxies open and detects gone clients (the
    /// second write after a client left fails, so a foreground command ends within about twice this).
    static let keepAlive: Duration = .seconds(5)

    /// The SSE response. `onDisconnect` runs if the client goes away before the exit event; `onFinish`
    /// after the exit event was sent.
    ///
    /// With `request` — the request the HTTP server read from the connection, its body already
    /// collected — a client that closes its connection is noticed at once (Hummingbird's inbound-close
    /// handler sees the end of the connection's stream) instead of at the second keep-alive write after
    /// it left (up to 2 × `keepAlive`). The connection is closed after such a stream.
    static func response(
        _ session: ExecSession, from cursor: ExecCursor, encoding: ExecOutputEncoding, request: Request? = nil,
        onDisconnect: (@Sendable () -> Void)? = nil, onFinish: (@Sendable () -> Void)? = nil
    ) -> Response {
        var headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"]
        headers[HTTPField.Name("x-accel-buffering")!] = "no"
        headers[HTTPField.Name("x-session-id")!] = session.id
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            do {
                if var request, let onDisconnect {
                    // The body was read already: hand Hummingbird the collected (here: empty) body, which
                    // it reports as complete before it watches what is left of the connection.
                    request.body = RequestBody(buffer: ByteBuffer())
                    let exitSent = StreamEnd()
                    try await request.body.consumeWithInboundCloseHandler { _ in
                        try await stream(session, from: cursor, encoding: encoding, to: &writer)
                        exitSent.reached.store(true, ordering: .releasing)
                    } onInboundClosed: {
                        // Also called when the watch is torn down after the exit event: not a client leaving.
                        if !exitSent.reached.load(ordering: .acquiring) { onDisconnect() }
                    }
                } else {
                    try await stream(session, from: cursor, encoding: encoding, to: &writer)
                }
                try await writer.finish(nil)
                onFinish?()
            } catch {
                onDisconnect?()
                throw error
            }
        })
    }

    /// Writes the events from `cursor` until the exit event.
    private static func stream(
        _ session: ExecSession, from cursor: ExecCursor, encoding: ExecOutputEncoding, to writer: inout any ResponseBodyWriter
    ) async throws {
        var cursor = cursor
        // Open the stream at once, so a client sees the headers before the first output.
        try await writer.write(ByteBuffer(string: ": session \(session.id)\n\n"))
        while !cursor.finished {
            let seen = session.changes.generation
            let events = session.read(&cursor, limit: batchBytes)
            if events.isEmpty {
                if await !session.changes.wait(past: seen, timeout: keepAlive) {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                }
                continue
            }
            var buffer = ByteBuffer()
            for event in events { ExecEventFormat.sse(event, encoding: encoding, into: &buffer) }
            try await writer.write(buffer)
        }
    }

    /// `Last-Event-ID` (header) or `?after=` (query): where a re-attaching client resumes; nil = from the start.
    static func resumePoint(_ request: Request) throws(ToolError) -> UInt64? {
        let raw = request.headers[HTTPField.Name("last-event-id")!] ?? request.uri.queryParameters.get("after")
        guard let raw, !raw.isEmpty else { return nil }
        guard let value = UInt64(raw.trimmingCharacters(in: .whitespaces)) else {
            throw ToolError(.invalidRequest, "Last-Event-ID (or ?after=) must be an event id from this stream, a non-negative integer.")
        }
        return value
    }
}

/// Whether a stream got as far as its exit event (the inbound-close handler runs after that too).
private final class StreamEnd: Sendable {
    let reached = Atomic<Bool>(false)
}
