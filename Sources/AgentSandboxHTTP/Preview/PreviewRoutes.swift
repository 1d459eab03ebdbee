import AgentSandbox
import Foundation
import HTTPTypes
import Hummingbird

/// The preview routes (see `PreviewService`, `PreviewProxy`):
///
/// - `ANY /v1/agents/{id}/ports/{port}/…` (API key) and `ANY /p/{token}/…` (a link, no key): the
///   request proxied, streamed both ways, to that port inside the agent's network namespace;
/// - `GET /v1/agents/{id}/ports`: the ports something listens on there, and the agent's live links;
/// - `POST /v1/agents/{id}/ports/{port}/link {expires_in?}` → `{url, token, expires_at, …}`;
///   `DELETE /v1/agents/{id}/ports/{port}/link/{token}` revokes it (the token or the link's `id`).
///
/// `POST …/ports/{port}/link` is the links API: an app's own `POST /link` is reached through a link
/// or the preview domain, not through the API form.
struct PreviewRoutes: Sendable {
    let pipeline: CallPipeline
    let previews: PreviewService
    let proxy: PreviewProxy

    /// The methods proxied (the router has no "any method" route).
    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]

    func addRoutes(to router: Router<some RequestContext>) {
        let (pipeline, previews, proxy) = (self.pipeline, self.previews, self.proxy)
        for path in ["/v1/agents/:agent_id/ports/:port", "/v1/agents/:agent_id/ports/:port/**", "/p/:token", "/p/:token/**"] {
            for method in Self.methods {
                router.on(RouterPath(path), method: method) { request, _ in
                    guard let address = PreviewAddress.parse(target: request.uri.description) else { throw HTTPError(.notFound) }
                    return try await proxy.forward(request, to: address)
                }
            }
        }
        router.get("/v1/agents/:agent_id/ports") { _, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            let (sockets, links) = try await pipeline.run(CallRequest(agentID: id, operation: "preview.ports", entry: .preview), admission: .activeAgent) { admitted in
                (try await previews.listening(agent: admitted.agent), try await previews.links(agent: id))
            }
            let base = pipeline.configuration.shareBaseURL
            return Response.json(JSONValue.object([
                "agent_id": .string(id.rawValue),
                "ports": .array(sockets.map { socket in
                    .object([
                        "port": .number(Double(socket.port)), "address": .string(socket.address), "protocol": "tcp",
                        "url": .string("\(base)/v1/agents/\(id)/ports/\(socket.port)/"),
                    ])
                }),
                "links": .array(links.map(Self.json)),
            ]))
        }
        router.post("/v1/agents/:agent_id/ports/:port/link") { request, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            let port = try PreviewAddress.port(context.parameters.get("port") ?? "")
            let input = try await request.jsonBody(limit: 64 << 10, emptyIsObject: true)
            let call = CallRequest(agentID: id, operation: "preview.link", input: input, schema: "previews/link", entry: .preview)
            let link = try await pipeline.run(call, admission: .activeAgent) { admitted in
                try await previews.createLink(agent: admitted.agent, port: port, expiresIn: admitted.input["expires_in"]?.doubleValue.map { Int($0) })
            }
            var fields = Self.json(link.record).objectValue ?? [:]
            fields["url"] = .string(link.url)
            fields["token"] = .string(link.token)
            fields["host_url"] = link.hostURL.map(JSONValue.string) ?? .null
            return Response.json(JSONValue.object(fields), status: .created)
        }
        router.delete("/v1/agents/:agent_id/ports/:port/link/:token") { _, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            _ = try PreviewAddress.port(context.parameters.get("port") ?? "")
            let token = context.parameters.get("token") ?? ""
            try await pipeline.run(CallRequest(agentID: id, operation: "preview.revoke", entry: .preview), admission: .anyAgent) { _ in
                guard try await previews.revokeLink(token, agent: id) else {
                    throw ToolError(.notFound, "Agent \(id) has no live preview link with that token (it may have expired or been revoked already).")
                }
            }
            return Response.json(JSONValue.object(["agent_id": .string(id.rawValue), "revoked": true]))
        }
    }

    static func json(_ record: PreviewLinkRecord) -> JSONValue {
        let formatter = ISO8601DateFormatter()
        return .object([
            "id": .string(record.id), "agent_id": .string(record.agentId), "port": .number(Double(record.port)),
            "created_at": .string(formatter.string(from: record.createdAt)),
            "expires_at": record.expiresAt.map { .string(formatter.string(from: $0)) } ?? .null,
        ])
    }
}
