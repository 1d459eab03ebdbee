import AgentSandbox
import Hummingbird

/// API-key authentication for every `/v1` route and the call shapes of other APIs (`/sandboxes/…`,
/// `/api/v1/…`, xpander's `/workspace/…`) (`x-api-key`, or `Authorization: Bearer`). Keys are
/// checked in memory without suspending; a key the server has not seen is looked up once in the store
/// (a key created by `agent-sandbox key create` while the server runs).
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: APIKeyAuthority
    /// First path segments that need a key besides the usual ones (the gateway's `/clusters`).
    var alsoGuarded: Set<Substring> = []

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // The terminal WebSocket route takes an exec token instead (checked by `TerminalRoutes` and, for
        // the upgrade, `TerminalWebSocket`): exactly that route, and only when a token is presented.
        if Self.requiresKey(request.uri.path) || isAlsoGuarded(request.uri.path), !TerminalRoutes.presentsToken(request) {
            guard let presented = APIKeyAuthority.presentedKey(in: request.headers) else {
                throw ToolError.missingAPIKey
            }
            if !keys.isKnown(presented), await !keys.isValidAfterReload(presented) {
                throw ToolError.invalidAPIKey
            }
        }
        return try await next(request, context)
    }

    private func isAlsoGuarded(_ path: String) -> Bool {
        guard !alsoGuarded.isEmpty else { return false }
        var segments = PathSegments(path)
        return segments.next().map(alsoGuarded.contains) ?? false
    }

    /// Everything except the unauthenticated routes (`/healthz`, `/metrics`, share downloads `/s/…`, …).
    /// Empty segments are ignored as the router ignores them (`//v1/agents` is `/v1/agents`).
    static func requiresKey(_ path: String) -> Bool {
        var segments = PathSegments(path)
        switch segments.next() {
        case "v1"?, "sandboxes"?, "workspace"?: return true
        case "api"?: return segments.next() == "v1"
        default: return false
        }
    }
}

extension ToolError {
    /// 401: no `x-api-key` (or `Authorization: Bearer`) header.
    static var missingAPIKey: ToolError {
        ToolError(.unauthorized, "Missing API key: send it in the x-api-key header (or Authorization: Bearer <key>).")
    }

    /// 401: a key the server does not know.
    static var invalidAPIKey: ToolError {
        ToolError(.unauthorized, "The API key is not valid. Use the key printed when the server first started, or set AGENT_SANDBOX_API_KEY.")
    }
}
