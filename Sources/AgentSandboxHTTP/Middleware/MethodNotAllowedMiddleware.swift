import AgentSandbox
import HTTPTypes
import Hummingbird

/// Answers a request the router could not match: 405 with `Allow` when its path is a route that takes
/// other methods, otherwise the router's 404 (which `ErrorMiddleware` turns into the envelope).
///
/// Added to the router after every route, so Hummingbird applies it only to unmatched requests (a
/// router's middleware wraps the routes added after it, and the not-found responder). The route table
/// is built once from `Router.routes`.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// One route's path, split into segments; `nil` matches any one segment (a parameter).
    private let table: [(segments: [Substring?], methods: Set<HTTPRequest.Method>)]

    init(routes: [(path: String, method: HTTPRequest.Method)]) {
        var byPath: [String: Set<HTTPRequest.Method>] = [:]
        for route in routes { byPath[route.path, default: []].insert(route.method) }
        table = byPath.map { path, methods in
            let segments = path.split(separator: "/").map { $0.hasPrefix(":") || $0.hasPrefix("{") || $0 == "*" ? nil : $0 }
            // `GET` routes answer `HEAD` too (`RouterOptions.autoGenerateHeadEndpoints`).
            return (segments, methods.contains(.get) ? methods.union([.head]) : methods)
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let allowed = methods(for: request.uri.path)
        guard !allowed.isEmpty, !allowed.contains(request.method) else {
            return try await next(request, context)
        }
        let list = allowed.map(\.rawValue).sorted().joined(separator: ", ")
        var response = Response.error(ToolError(.methodNotAllowed, "\(request.method.rawValue) is not accepted on this route; it accepts \(list). The API is described at GET /openapi.json."))
        response.headers[.allow] = list
        return response
    }

    /// Every method some route accepts on `path`.
    func methods(for path: String) -> Set<HTTPRequest.Method> {
        let parts = path.split(separator: "/")
        var result: Set<HTTPRequest.Method> = []
        for route in table where route.segments.count == parts.count {
            if zip(route.segments, parts).allSatisfy({ $0 == nil || $0 == $1 }) { result.formUnion(route.methods) }
        }
        return result
    }
}
