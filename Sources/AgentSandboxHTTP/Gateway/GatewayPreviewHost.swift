import AgentSandbox
import HTTPTypes
import Hummingbird

/// `agent-sandbox gateway --preview-domain D` (the nodes' domain too): a request whose `Host` is
/// `{port}-{agent}.D` or `{link token}.D` is an agent app's, whatever its path (see
/// `PreviewHostMiddleware`). It goes, before the gateway's authentication, to the node of the agent or
/// of the link's agent, which checks the API key or the link itself as a single box does.
struct GatewayPreviewHostMiddleware<Context: RequestContext>: RouterMiddleware {
    let domain: String
    let forwarder: GatewayForwarder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let destination = GatewayPreviewHost.destination(of: request.head, domain: domain) else { return try await next(request, context) }
        return try await forwarder.forward(request, to: destination, context: context)
    }
}

enum GatewayPreviewHost {
    /// Where a request for a host under `domain` goes, with its target unchanged (the node reads the
    /// same `Host`); nil for any other host.
    static func destination(of head: HTTPRequest, domain: String?) -> GatewayDestination? {
        destination(host: head.authority, target: head.path ?? "/", domain: domain)
    }

    /// Where a request for `host` and `target` goes (as above).
    static func destination(host: String?, target: String, domain: String?) -> GatewayDestination? {
        guard let address = PreviewAddress.parse(host: host, target: target, domain: domain) else { return nil }
        switch address.kind {
        case .link(let token): return .preview(token: token, path: target)
        case .api(let agent, _):
            // An id the node cannot read either: any node answers with its own 400.
            guard let reference = try? ClusterAgentReference(agent) else { return .anyNode(path: target) }
            return .agent(reference, path: target)
        }
    }
}
