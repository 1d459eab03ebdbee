import AgentSandbox
import HTTPTypes
import NIOCore
import NIOHTTP1

/// The answers the listener gives on its own — before or instead of the router — each an envelope
/// with a sentence that says what to change, and `Connection: close`.
enum ListenerRefusal {
    static func requestLineTooLong(_ limits: ListenerLimits) -> ByteBuffer {
        raw(ToolError(.uriTooLong, "The request line is longer than \(limits.maxRequestLineBytes) bytes. Send large parameters in the request body; the connection is closed."))
    }

    static func headerTimeout(_ limits: ListenerLimits) -> ByteBuffer {
        raw(ToolError(.requestTimeout, "The request head did not arrive within \(formatted(limits.headerTimeoutSeconds)) s (--header-timeout); the connection is closed."))
    }

    /// The answer to a request the HTTP parser rejected (never a 500: every byte sequence a client can
    /// send is the client's mistake).
    static func parseFailure(_ error: any Error, limits: ListenerLimits) -> ToolError {
        guard let parserError = error as? HTTPParserError else {
            return ToolError(.invalidRequest, "The request is not valid HTTP/1.1; the connection is closed.")
        }
        switch parserError {
        case .headerOverflow:
            return ToolError(.headersTooLarge, "The request head is too large: at most \(limits.maxHeaderCount) header fields, \(limits.maxHeaderFieldBytes) bytes per field and \(limits.maxHeaderBytes) bytes in all. Send large data in the body; the connection is closed.")
        case .invalidMethod:
            return ToolError(.invalidRequest, "The request method is not a known HTTP method (the API uses GET, POST, PUT, PATCH and DELETE); the connection is closed.")
        case .invalidContentLength:
            return ToolError(.invalidRequest, "The Content-Length header is not a valid length (a non-negative decimal number, given once); the connection is closed.")
        case .invalidChunkSize:
            return ToolError(.invalidRequest, "The chunked request body is malformed: a chunk size is not a hexadecimal number or is too large; the connection is closed.")
        default:
            return ToolError(.invalidRequest, "The request is not valid HTTP/1.1 (\(parserError)); the connection is closed.")
        }
    }

    /// A whole HTTP/1.1 response as bytes, for the raw-byte handler that sits before the HTTP codec.
    static func raw(_ error: ToolError) -> ByteBuffer {
        let reply = ErrorReply(error)
        var buffer = ByteBuffer()
        buffer.writeString("HTTP/1.1 \(reply.status.code) \(reply.status.reasonPhrase)\r\n")
        for field in closing(reply) { buffer.writeString("\(field.name.canonicalName): \(field.value)\r\n") }
        buffer.writeString("\r\n")
        var body = reply.body
        buffer.writeBuffer(&body)
        return buffer
    }

    /// The same response as HTTP/1 parts, for handlers after the HTTP codec.
    static func parts(_ error: ToolError, version: HTTPVersion = .http1_1) -> [HTTPServerResponsePart] {
        let reply = ErrorReply(error)
        let headers = HTTPHeaders(closing(reply).map { ($0.name.canonicalName, $0.value) })
        let head = HTTPResponseHead(version: version, status: .init(statusCode: reply.status.code), headers: headers)
        return [.head(head), .body(.byteBuffer(reply.body)), .end(nil)]
    }

    /// The reply's fields with its length and `Connection: close` (a refused connection is closed).
    private static func closing(_ reply: ErrorReply) -> HTTPFields {
        var fields = reply.headers
        fields[.contentLength] = String(reply.body.readableBytes)
        fields[.connection] = "close"
        return fields
    }

    private static func formatted(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
