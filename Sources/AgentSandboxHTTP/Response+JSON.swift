import AgentSandbox
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension Response {
    /// A JSON response from any `Encodable` (snake_case keys through the shared encoder).
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let data = (try? JSONCoding.makeEncoder().encode(value)) ?? Data("{}".utf8)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The envelope of an error, with its HTTP status.
    static func error(_ error: ToolError) -> Response {
        let reply = ErrorReply(error)
        return Response(status: reply.status, headers: reply.headers, body: .init(byteBuffer: reply.body))
    }
}

/// What an error is on the wire: the status `ToolError` decides, `Retry-After` when it has one, and the
/// envelope as JSON. `Response.error` sends it, and so does the gateway's fast path, which answers from
/// a channel handler where there is no `Response`.
struct ErrorReply {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: ByteBuffer

    init(_ error: ToolError) {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let seconds = error.retryAfterSeconds { headers[.retryAfter] = String(seconds) }
        let data = (try? JSONCoding.makeEncoder().encode(error.asEnvelope)) ?? Data("{}".utf8)
        (status, self.headers, body) = (error.httpStatus, headers, ByteBuffer(bytes: data))
    }
}

extension Request {
    /// Collects the body up to `limit` bytes; 413 past it (checked on Content-Length first).
    func collectBody(limit: Int) async throws -> Data {
        Data(try await collectBuffer(limit: limit).readableBytesView)
    }

    /// The body as one `ByteBuffer`, up to `limit` bytes; 413 past it.
    nonisolated(nonsending) func collectBuffer(limit: Int) async throws -> ByteBuffer {
        if let declared = headers.value(of: .contentLength).flatMap(Int.init), declared > limit {
            throw Self.tooLarge(limit)
        }
        do {
            return try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw Self.tooLarge(limit)
        }
    }

    /// Collects and parses a JSON body (in place, no copy); an empty body is `{}` when `emptyIsObject`.
    nonisolated(nonsending) func jsonBody(limit: Int, emptyIsObject: Bool = false) async throws -> JSONValue {
        let buffer = try await collectBuffer(limit: limit)
        if buffer.readableBytes == 0, emptyIsObject { return .object([:]) }
        return try JSONCoding.parseBody(bytes: buffer.readableBytesView)
    }

    private static func tooLarge(_ limit: Int) -> ToolError {
        ToolError(.payloadTooLarge, "The request body is larger than \(limit) bytes. Send large files in parts (file_write with mode \"a\") or import an archive.")
    }
}

extension Response {
    /// An envelope response, written by `Envelope.jsonPieces()` (preferred over the generic
    /// `json(_:status:headers:)` for envelopes by overload resolution).
    static func json(_ envelope: Envelope, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        let pieces = envelope.jsonPieces()
        let body = pieces.count == 1 ? ResponseBody(byteBuffer: pieces[0]) : ResponseBody(contentsOf: pieces)
        return Response(status: status, headers: fields, body: body)
    }
}
