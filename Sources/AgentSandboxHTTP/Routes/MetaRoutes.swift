import AgentSandbox
import Hummingbird
import NIOCore

/// `/healthz`, `/metrics`, `/v1/tools`.
struct MetaRoutes: Sendable {
    let schemas: SchemaCatalog
    let metrics: Metrics
    static let healthy = ByteBuffer(string: #"{"status":"ok"}"#)

    func addRoutes(to router: Router<some RequestContext>) {
        // A constant: the benchmarks' ceiling is this route (scripts/bench-files), so it does no work.
        router.get("/healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: Self.healthy))
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: .init(string: await metrics.render())))
        }
        router.get("/v1/tools") { request, _ in
            let format = request.uri.queryParameters.get("format") ?? "json-schema"
            return Response.json(JSONValue.object(["tools": try schemas.toolDefinitions(format: format)]))
        }
        router.get("/v1/schemas/envelope") { _, _ in Response.json(schemas.envelope) }
    }
}
