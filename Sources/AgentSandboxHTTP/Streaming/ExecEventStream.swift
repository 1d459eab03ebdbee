import AgentSandbox
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

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
    static func response(
        _ session: ExecSession, from cursor: ExecCursor, encoding: ExecOutputEncoding,
        onDisconnect: (@Sendable () -> Void)? = nil, onFinish: (@Sendable () -> Void)? = nil
    ) -> Response {
        var headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"]
        headers[HTTPField.Name("x-accel-buffering")!] = "no"
        headers[HTTPField.Name("x-session-id")!] = session.id
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var cursor = cursor
            do {
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
                try await writer.finish(nil)
                onFinish?()
            } catch {
                onDisconnect?()
                throw error
            }
        })
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
