import AgentSandbox
import HTTPTypes
import Hummingbird
import Logging

/// The one place an error becomes a reply: every error — ours, Hummingbird's (unmatched routes, body
/// limits), or one nobody expected — leaves as the envelope with the status `ToolError` decides (on the
/// seed APIs' routes, as their `{error, errorCode, detail}` body: `SeedErrorBody`).
/// Nothing leaves as an empty-bodied 500, and no Swift error text reaches a client except as a sentence.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The methods each route path accepts: a known path with another method is 405 with `Allow`.
    var allowedMethods: AllowedMethods<Context>?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            // The router answers unmatched routes with an empty body.
            if response.status.code >= 400, response.headers[.contentType] == nil {
                if response.status == .notFound, let allow = await allowedMethods?.allow(for: request, context: context) {
                    return Self.methodNotAllowed(request.method, allow: allow)
                }
                return .error(Self.map(HTTPError(response.status)), for: request)
            }
            return response
        } catch let error as HTTPError {
            if error.status == .notFound, let allow = await allowedMethods?.allow(for: request, context: context) {
                return Self.methodNotAllowed(request.method, allow: allow)
            }
            return .error(Self.map(error), for: request)
        } catch let error as any HTTPResponseError where !(error is ToolError) {
            let code: ToolError.Code = error.status == .contentTooLarge ? .payloadTooLarge : .invalidRequest
            return .error(ToolError(code, "The request was refused: \(error.status.reasonPhrase)."), for: request)
        } catch {
            let failure = ToolError(normalizing: error)
            if failure.code == .internalError {
                context.logger.error("unexpected error on \(request.method) \(request.uri.path): \(error)")
            }
            return .error(failure, for: request)
        }
    }

    static func methodNotAllowed(_ method: HTTPRequest.Method, allow: String) -> Response {
        var response = Response.error(ToolError(.methodNotAllowed, "This path does not accept \(method.rawValue); it accepts \(allow)."))
        response.headers[.allow] = allow
        return response
    }

    static func map(_ error: HTTPError) -> ToolError {
        switch error.status {
        case .notFound:
            ToolError(.notFound, "No such route. The API is described at GET /openapi.json; tool calls go to POST /v1/agents/{agent_id}/sandbox/{tool}.")
        case .methodNotAllowed:
            ToolError(.methodNotAllowed, "This route does not accept that HTTP method. The API is described at GET /openapi.json.")
        case .contentTooLarge:
            ToolError(.payloadTooLarge, error.body ?? "The request body is too large.")
        case .unauthorized:
            ToolError(.unauthorized, error.body ?? "Unauthorized.")
        default:
            ToolError(error.status.code >= 500 ? .internalError : .invalidRequest, error.body ?? error.status.reasonPhrase)
        }
    }
}

extension ToolError: HTTPResponseError {
    /// `ToolError` travels as the envelope with its status (a tool-level failure as 200).
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        .error(self)
    }
    public var status: HTTPResponse.Status { httpStatus }
}
