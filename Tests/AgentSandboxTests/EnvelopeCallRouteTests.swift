import Foundation
import Testing

/// `POST /v1/agents/{id}/sandbox/{tool}` is answered without the router's path matching
/// (`ConcreteRouterResponder`); it must answer exactly as a routed request: the same middleware (API
/// key, request id, the error envelope), the same spellings of the path, the same misses.
@Suite(.enabled(if: isRoot, "starts a real server"))
struct EnvelopeCallRouteTests {
    @Test func theEnvelopeRouteKeepsTheRoutersMiddlewareSpellingsAndMisses() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        #expect(try await server.write(agent, "route.txt", "routed\n").string("status") == "ok")
        let read = Data(#"{"path":"route.txt"}"#.utf8)

        // Empty segments are ignored, as the router ignores them.
        let spelled = try await server.request("POST", "//v1//agents/\(agent)/sandbox//file_read/", body: read,
                                               headers: ["x-api-key": server.apiKey, "x-request-id": "route-7"])
        #expect(spelled.status == 200)
        #expect(spelled.string("content")?.contains("routed") == true, "\(spelled.text)")
        #expect(spelled.headers["x-request-id"] == "route-7")

        let keyless = try await server.request("POST", "/v1/agents/\(agent)/sandbox/file_read", body: read, headers: [:])
        #expect(keyless.status == 401)
        #expect(keyless.string("error_code") == "UNAUTHORIZED")
        #expect((keyless.headers["x-request-id"] ?? "").count >= 8)

        let wrongKey = try await server.request("POST", "/v1/agents/\(agent)/sandbox/file_read", body: read, headers: ["x-api-key": "nope"])
        #expect(wrongKey.status == 401)

        let unknownTool = try await server.request("POST", "/v1/agents/\(agent)/sandbox/no_such_tool", body: read)
        #expect(unknownTool.status == 404)
        #expect(unknownTool.string("error_code") == "TOOL_NOT_FOUND")

        let badAgent = try await server.request("POST", "/v1/agents/not-a-uuid/sandbox/file_read", body: read)
        #expect(badAgent.status == 400)

        // One segment more or less is another path: the router's 404 (or its 405 for a known one).
        let longer = try await server.request("POST", "/v1/agents/\(agent)/sandbox/file_read/more", body: read)
        #expect(longer.status == 404)
        #expect(longer.string("error")?.contains("GET /openapi.json") == true)
        let shorter = try await server.request("POST", "/v1/agents/\(agent)/sandbox", body: read)
        #expect(shorter.status == 404)
        let otherCase = try await server.request("POST", "/v1/Agents/\(agent)/sandbox/file_read", body: read)
        #expect(otherCase.status == 404)
        let get = try await server.request("GET", "/v1/agents/\(agent)/sandbox/file_read")
        #expect(get.status == 405)
        #expect(get.headers["allow"] == "POST")
    }
}
