import AgentSandbox
import Hummingbird

/// API-key authentication for every `/v1` route (`x-api-key`, or `Authorization: Bearer`). Keys are
/// checked in memory without suspending; a key the server has not seen is looked up once in the store
/// (a key created by `agent-sandbox key create` while the server runs).
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: APIKeyAuthority

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path.hasPrefix("/v1") {
            guard let presented = APIKeyAuthority.presentedKey(in: request.headers) else {
                throw ToolError(.unauthorized, "Missing API key: send it in the x-api-key header (or Authorization: Bearer <key>).")
            }
            if !keys.isKnown(presented), await !keys.isValidAfterReload(presented) {
                throw ToolError(.unauthorized, "The API key is not valid. Use the key printed when the server first started, or set AGENT_SANDBOX_API_KEY.")
            }
        }
        return try await next(request, context)
    }
}
