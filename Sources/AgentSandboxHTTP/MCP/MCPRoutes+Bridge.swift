import AgentSandbox
import Foundation
import HTTPTypes
import Hummingbird
import MCP
import NIOCore

/// Translation between Hummingbird's request/response and the SDK's plain `HTTPRequest`/`HTTPResponse`.
extension MCPRoutes {
    /// The request's header fields by canonical name (repeated fields joined with ", ").
    static func headers(of request: Hummingbird.Request) -> [String: String] {
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { "\($0), \(field.value)" } ?? field.value
        }
        return headers
    }

    /// The SDK's reply as a response: a body, or an SSE stream written as its events come.
    static func response(_ reply: MCP.HTTPResponse) -> Hummingbird.Response {
        var headers = HTTPFields()
        for (name, value) in reply.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        if case .stream(let stream, _) = reply {
            headers[HTTPField.Name("x-accel-buffering")!] = "no"
            return Hummingbird.Response(status: .init(code: reply.statusCode), headers: headers, body: ResponseBody { writer in
                for try await chunk in stream { try await writer.write(ByteBuffer(bytes: chunk)) }
                try await writer.finish(nil)
            })
        }
        let body = reply.bodyData.map { ResponseBody(byteBuffer: ByteBuffer(bytes: $0)) } ?? ResponseBody()
        return Hummingbird.Response(status: .init(code: reply.statusCode), headers: headers, body: body)
    }

    /// A JSON-RPC error reply with HTTP `status`.
    static func error(_ status: Int, code: Int, _ message: String, id: JSONValue = .null) -> Hummingbird.Response {
        let body: JSONValue = ["jsonrpc": "2.0", "id": id, "error": ["code": .number(Double(code)), "message": .string(message)]]
        return Hummingbird.Response.json(body, status: .init(code: status))
    }

    /// The `method` and `id` of a single JSON-RPC message; nil when the body is not a JSON object.
    static func methodAndID(_ body: Data) -> (method: String?, id: JSONValue)? {
        guard let message = try? JSONCoding.parseBody(body), message.objectValue != nil else { return nil }
        return (message["method"]?.stringValue, message["id"] ?? .null)
    }
}
