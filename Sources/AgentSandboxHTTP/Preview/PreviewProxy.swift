import AgentSandbox
import HTTPTypes
import Hummingbird

/// Turns a `PreviewAddress` into a `ProxyTarget`: checks who may open it (the API key for the agent's
/// own form, a live link for `/p/…`), and connects — through the call pipeline, so an unknown agent is
/// 404, a suspended one 409 and every preview connection is audited as `preview.connect` — to the port
/// inside the agent's network namespace. The upstream gets `Host: localhost:<port>` (dev servers that
/// only allow local hosts answer), never this server's API key.
struct PreviewProxy: Sendable {
    let pipeline: CallPipeline
    let previews: PreviewService
    let keys: APIKeyAuthority

    func target(for address: PreviewAddress, headers: HTTPFields) async throws -> ProxyTarget {
        let agentID: AgentID, port: Int
        var removed: [HTTPField.Name] = [Self.apiKeyField]
        switch address.kind {
        case .api(let agent, let portText):
            try await authenticate(headers)
            agentID = try AgentID(agent)
            port = try PreviewAddress.port(portText)
            // `Authorization: Bearer <key>` was this server's key unless the key came in x-api-key.
            if headers[Self.apiKeyField] == nil { removed.append(.authorization) }
        case .link(let token):
            guard let link = try await previews.link(token: token) else {
                throw ToolError(.notFound, "No such preview link: it is wrong, expired or revoked. Ask for a new one (POST /v1/agents/{agent_id}/ports/{port}/link).")
            }
            agentID = try AgentID(link.agentId)
            port = link.port
        }
        let (pipeline, previews) = (self.pipeline, self.previews)
        let connector = UpstreamConnector.descriptor(name: "port \(port) of agent \(agentID)") {
            try await pipeline.run(CallRequest(agentID: agentID, operation: "preview.connect", entry: .preview), admission: .activeAgent) { admitted in
                try await previews.connect(agent: admitted.agent, port: port)
            }
        }
        return ProxyTarget(
            connector: connector, pathAndQuery: address.pathAndQuery, host: "localhost:\(port)",
            prefix: address.prefix.isEmpty ? nil : address.prefix, removedFields: removed)
    }

    /// Forwards `request` (an HTTP exchange) to the address; a bare `GET /p/{token}` is redirected to
    /// `/p/{token}/` so the app's relative links resolve under the prefix.
    func forward(_ request: Request, to address: PreviewAddress) async throws -> Response {
        if address.bare, case .link = address.kind, request.method == .get || request.method == .head {
            return Response(status: .permanentRedirect, headers: [.location: address.prefix + "/" + (request.uri.query.map { "?\($0)" } ?? "")])
        }
        return try await ReverseProxy.forward(request, to: target(for: address, headers: request.headers))
    }

    /// 401 unless the headers carry a valid API key (the host-based form is not under `/v1`, where
    /// `AuthMiddleware` checks it).
    private func authenticate(_ headers: HTTPFields) async throws {
        guard let presented = APIKeyAuthority.presentedKey(in: headers) else {
            throw ToolError(.unauthorized, "Missing API key: send it in the x-api-key header (or Authorization: Bearer <key>), or use a preview link.")
        }
        if !keys.isKnown(presented), await !keys.isValidAfterReload(presented) {
            throw ToolError(.unauthorized, "The API key is not valid.")
        }
    }

    static let apiKeyField = HTTPField.Name("x-api-key")!
}
