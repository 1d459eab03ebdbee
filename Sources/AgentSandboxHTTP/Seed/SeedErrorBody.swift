import AgentSandbox
import HTTPTypes
import Hummingbird

/// The seed APIs' error body, `{error, errorCode, detail}`, for every error on their routes
/// (`/sandboxes/…`, `/api/v1/…`): `error` is our sentence, `errorCode` our stable code, `detail` the HTTP
/// status, where the API is described, and any partial output the failure kept.
///
/// A tool-level failure, which our envelope carries as HTTP 200 with `status: "error"`, is a 400 here
/// (500 for the server's own I/O failures): the seed APIs' clients take 200 to mean it worked.
enum SeedErrorBody {
    /// Whether `path` belongs to a seed API (and its errors take this shape).
    static func applies(to path: String) -> Bool {
        path.hasPrefix("/sandboxes/") || path == "/sandboxes" || path.hasPrefix("/api/v1/")
    }

    static func status(of error: ToolError) -> HTTPResponse.Status {
        guard error.httpStatus == .ok else { return error.httpStatus }
        switch error.code {
        case .execFailed, .ioError, .noSpace: return .internalServerError
        default: return .badRequest
        }
    }

    static func fields(_ error: ToolError, status: HTTPResponse.Status) -> [String: JSONValue] {
        var detail: [String: JSONValue] = ["status": .number(Double(status.code)), "docs": "GET /openapi.json"]
        if let partial = error.envelope {
            if let stdout = partial.stdout { detail["stdout"] = .string(stdout) }
            if let stderr = partial.stderr { detail["stderr"] = .string(stderr) }
            if let code = partial.exitCode { detail["exit_code"] = .number(Double(code)) }
        }
        return ["error": .string(error.message), "errorCode": .string(error.code.rawValue), "detail": .object(detail)]
    }

    static func response(_ error: ToolError) -> Response {
        let status = status(of: error)
        return Response.json(JSONValue.object(fields(error, status: status)), status: status)
    }
}

extension Response {
    /// The error as the route's clients expect it: the seed body on the seed APIs' routes, else the envelope.
    static func error(_ error: ToolError, for request: Request) -> Response {
        SeedErrorBody.applies(to: request.uri.path) ? SeedErrorBody.response(error) : .error(error)
    }
}
