import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Gives every request an id — the client's `x-request-id` when it sent a sane one, otherwise a new
/// one — puts it in the request's log metadata and echoes it on the response, errors included.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    static var header: HTTPField.Name { HTTPField.Name("x-request-id")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = request.headers[Self.header].flatMap(Self.accepted) ?? Self.generate()
        var context = context
        context.logger[metadataKey: "request_id"] = .string(id)
        var response = try await next(request, context)
        response.headers[Self.header] = id
        return response
    }

    /// A client's id, when it is printable ASCII without spaces and at most 128 bytes.
    static func accepted(_ value: String) -> String? {
        guard !value.isEmpty, value.utf8.count <= 128, value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else { return nil }
        return value
    }

    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let high: UInt64 = generator.next()
        let low: UInt64 = generator.next()
        return String(high, radix: 16) + String(low & 0xffff_ffff, radix: 16)
    }
}
