import Foundation
import Testing

/// `GET /openapi.json` and `GET /docs` are served without an API key; the page loads Swagger UI from this
/// server only, and says how to install it when its files are missing.
@Suite(.enabled(if: isRoot, "starts a real server"))
struct DocsRouteTests {
    static let assets = TestServer.repositoryRoot.appendingPathComponent("vendor/swagger-ui")

    @Test func documentIsServedWithoutAKey() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.request("GET", "/openapi.json", headers: [:])
        #expect(reply.status == 200)
        #expect(reply.string("openapi")?.hasPrefix("3.1") == true)
        #expect((reply.json["paths"] as? [String: Any])?["/v1/agents/{agent_id}/sandbox/bash"] != nil)
    }

    @Test func docsPageUsesOnlyThisServersFiles() async throws {
        let server = try await TestServer.shared.get()
        let page = try await server.request("GET", "/docs", headers: [:])
        guard FileManager.default.fileExists(atPath: Self.assets.appendingPathComponent("swagger-ui-bundle.js").path) else {
            #expect(page.status == 503, "without vendor/swagger-ui (scripts/setup-docs) the page explains itself")
            return
        }
        #expect(page.status == 200)
        #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.text.contains("/docs/swagger-ui-bundle.js"))
        #expect(page.text.contains("\"/openapi.json\""))
        #expect(!page.text.contains("http://") && !page.text.contains("https://"), "the page fetches nothing from elsewhere")
        let script = try await server.request("GET", "/docs/swagger-ui-bundle.js", headers: [:])
        #expect(script.status == 200)
        #expect(script.headers["content-type"]?.hasPrefix("application/javascript") == true)
        #expect(script.body.count > 100_000)
        let css = try await server.request("GET", "/docs/swagger-ui.css", headers: [:])
        #expect(css.status == 200)
        let other = try await server.request("GET", "/docs/..%2Fschemas", headers: [:])
        #expect(other.status == 404)
    }

    @Test func docsPageSaysHowToInstallMissingFiles() async throws {
        // A schema directory with no vendor/swagger-ui beside it.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("docs-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.copyItem(at: TestServer.repositoryRoot.appendingPathComponent("schemas"), to: root.appendingPathComponent("schemas"))
        let server = try await TestServer(extraArguments: ["--schemas", root.appendingPathComponent("schemas").path]).start()
        defer { server.stop() }
        let page = try await server.request("GET", "/docs", headers: [:])
        #expect(page.status == 503)
        #expect(page.headers["content-type"]?.hasPrefix("text/plain") == true)
        #expect(page.text.contains("scripts/setup-docs"))
        #expect(page.text.contains("/openapi.json"))
        let asset = try await server.request("GET", "/docs/swagger-ui-bundle.js", headers: [:])
        #expect(asset.status == 503)
        #expect(try await server.request("GET", "/openapi.json", headers: [:]).status == 200)
    }
}
