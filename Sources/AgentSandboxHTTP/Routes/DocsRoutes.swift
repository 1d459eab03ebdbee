import AgentSandbox
import Foundation
import Hummingbird
import NIOCore

/// The contract, served without an API key: `GET /openapi.json` (the assembled `OpenAPIDocument`) and
/// `GET /docs`, a page that renders it with Swagger UI from this server's own copy of its files
/// (`GET /docs/{file}`; put in place by `scripts/setup-docs`, nothing is fetched from elsewhere).
struct DocsRoutes: Sendable {
    let document: OpenAPIDocument
    /// Where Swagger UI's files are (`vendor/swagger-ui/` of the repository).
    let assets: URL

    /// The files of Swagger UI the page uses, and their media types.
    static let files: [String: String] = [
        "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
        "swagger-ui.css": "text/css; charset=utf-8",
        "favicon-32x32.png": "image/png",
        "LICENSE": "text/plain; charset=utf-8",
    ]

    func addRoutes(to router: Router<some RequestContext>) {
        let body = ByteBuffer(bytes: document.data)
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-cache"], body: .init(byteBuffer: body))
        }
        router.get("/docs") { _, _ in
            guard installed else { return notInstalled() }
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: Self.page)))
        }
        let fileIO = FileIO()
        router.get("/docs/:file") { _, context in
            let name = context.parameters.get("file") ?? ""
            guard let type = Self.files[name] else {
                throw ToolError(.notFound, "No such file under /docs. The page is GET /docs; the document is GET /openapi.json.")
            }
            guard installed else { return notInstalled() }
            let path = assets.appendingPathComponent(name).path
            return Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=3600"], body: try await fileIO.loadFile(path: path, context: context))
        }
    }

    /// `vendor/swagger-ui/` beside the schema directory: the repository's, where `scripts/setup-docs`
    /// unpacks the files (git ignores it).
    static func assetDirectory(schemaDirectory: URL) -> URL {
        schemaDirectory.deletingLastPathComponent().appendingPathComponent("vendor/swagger-ui", isDirectory: true)
    }

    private var installed: Bool {
        FileManager.default.fileExists(atPath: assets.appendingPathComponent("swagger-ui-bundle.js").path)
    }

    private func notInstalled() -> Response {
        let message = """
            The API page needs Swagger UI's files in \(assets.path), and they are not installed on this server.
            Install them with scripts/setup-docs (it unpacks them from a PyPI package), then reload this page.
            The API description itself is served at GET /openapi.json.

            """
        return Response(status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: message)))
    }

    /// The page: Swagger UI over `/openapi.json`, its files from `/docs/…` on this server.
    static let page = """
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <title>AgentSandbox API</title>
          <link rel="stylesheet" href="/docs/swagger-ui.css">
          <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
        </head>
        <body>
          <div id="swagger-ui"></div>
          <script src="/docs/swagger-ui-bundle.js"></script>
          <script>
            window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, persistAuthorization: true});
          </script>
        </body>
        </html>

        """
}
