import AgentSandbox
import Hummingbird

/// `--preview-domain D`: a request whose `Host` is `{port}-{agent}.D` (API key) or `{token}.D` (a
/// preview link) is the app's, whatever its path — proxied to the agent's port at `/` before the API
/// routes and their authentication see it. Every other host goes on to the API.
struct PreviewHostMiddleware<Context: RequestContext>: RouterMiddleware {
    let domain: String
    let proxy: PreviewProxy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let host = request.head.authority
        guard let address = PreviewAddress.parse(host: host, target: request.uri.description, domain: domain) else {
            return try await next(request, context)
        }
        return try await proxy.forward(request, to: address)
    }
}
