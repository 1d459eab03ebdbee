import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The outermost responder: authenticates `/v1` routes, then turns *every* error — ours, Hummingbird's,
/// or an unexpected one — into the envelope with the right status. Nothing leaves as an empty 500.
struct SandboxResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == BasicRequestContext {
    typealias Context = BasicRequestContext
    let inner: Inner
    let keys: APIKeyAuthority
    let logger: Logger
    /// Answers `POST /v1/agents/{id}/sandbox/{tool}` — every envelope tool call — without the router's
    /// path matching (the same handler the router runs for that route); nil: everything via the router.
    var toolCalls: ToolDispatcher?
    /// The methods each route path accepts: a known path with another method is 405 with `Allow`.
    var allowedMethods: AllowedMethods?

    func respond(to request: Request, context: Context) async throws -> Response {
        do {
            if request.uri.path.hasPrefix("/v1"), let unknown = try unknownKey(in: request) { try await confirm(unknown) }
            let response: Response
            if let toolCalls, let target = ToolDispatcher.envelopeCallTarget(method: request.method, path: request.uri.path) {
                response = try await Self.direct(request, context: context) {
                    try await toolCalls.envelopeCall(request, agentID: target.agentID, tool: target.tool)
                }
            } else {
                response = try await inner.respond(to: request, context: context)
            }
            // The router answers unmatched routes (and its own HTTP errors) with an empty body.
            if response.status.code >= 400, response.headers[.contentType] == nil {
                if response.status == .notFound, let allow = await allowedMethods?.allow(for: request, context: context) {
                    return Self.methodNotAllowed(request.method, allow: allow)
                }
                return .error(Self.map(HTTPError(response.status)))
            }
            return response
        } catch let error as ToolError {
            return .error(error)
        } catch let error as HTTPError {
            return .error(Self.map(error))
        } catch let error as any HTTPResponseError {
            let code: ToolError.Code = error.status == .contentTooLarge ? .payloadTooLarge : .invalidRequest
            return .error(ToolError(code, "The request was refused: \(error.status.reasonPhrase)."))
        } catch let error as DecodingError {
            return .error(ToolError(.invalidRequest, "The request body does not have the expected shape: \(error)"))
        } catch {
            logger.error("unexpected error on \(request.method) \(request.uri.path): \(error)")
            return .error(ToolError(.internalError, "Internal error: \(error). The server keeps running; retry or report this."))
        }
    }

    /// The API key of a request when it is not among the keys in memory (nil: known, the usual case,
    /// checked without suspending); 401 when the request carries none.
    private func unknownKey(in request: Request) throws(ToolError) -> String? {
        guard let presented = APIKeyAuthority.presentedKey(in: request.headers) else {
            throw ToolError(.unauthorized, "Missing API key: send it in the x-api-key header (or Authorization: Bearer <key>).")
        }
        return keys.isKnown(presented) ? nil : presented
    }

    /// Accepts a key missing from memory only if the store has it now (a key created meanwhile).
    private func confirm(_ presented: String) async throws(ToolError) {
        guard await keys.isValidAfterReload(presented) else {
            throw ToolError(.unauthorized, "The API key is not valid. Use the key printed when the server first started, or set AGENT_SANDBOX_API_KEY.")
        }
    }

    /// Runs a handler as `RouterResponder` does: its `HTTPResponseError`s become their own responses.
    private static func direct(_ request: Request, context: Context, _ handler: () async throws -> Response) async throws -> Response {
        do {
            return try await handler()
        } catch let error as any HTTPResponseError {
            return try error.response(from: request, context: context)
        }
    }

    private static func methodNotAllowed(_ method: HTTPRequest.Method, allow: String) -> Response {
        var response = Response.error(ToolError(.methodNotAllowed, "This path does not accept \(method.rawValue); it accepts \(allow)."))
        response.headers[.allow] = allow
        return response
    }

    private static func map(_ error: HTTPError) -> ToolError {
        switch error.status {
        case .notFound:
            ToolError(.notFound, "No such route. The API is described in schemas/openapi.json; tool calls go to POST /v1/agents/{agent_id}/sandbox/{tool}.")
        case .methodNotAllowed:
            ToolError(.methodNotAllowed, "This route does not accept that HTTP method.")
        case .contentTooLarge:
            ToolError(.payloadTooLarge, error.body ?? "The request body is too large.")
        case .unauthorized:
            ToolError(.unauthorized, error.body ?? "Unauthorized.")
        default:
            ToolError(error.status.code >= 500 ? .internalError : .invalidRequest, error.body ?? error.status.reasonPhrase)
        }
    }
}
