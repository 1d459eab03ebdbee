import Foundation
import Testing

/// Methods the routes do not take: 405 with `Allow` on a known path, 404 elsewhere, `HEAD` answered on
/// every `GET` route, and no method ever a 5xx.
@Suite(.enabled(if: isRoot, "starts a real server"))
struct MethodRoutingTests {
    @Test func wrongMethodOnAKnownPathIs405WithAllow() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let suspend = try await server.request("GET", "/v1/agents/\(agent)/suspend")
        #expect(suspend.status == 405)
        #expect(suspend.headers["allow"] == "POST")
        #expect(suspend.string("error_code") == "METHOD_NOT_ALLOWED")
        #expect(suspend.string("error")?.contains("POST") == true)

        let agentPath = try await server.request("PUT", "/v1/agents/\(agent)")
        #expect(agentPath.status == 405)
        #expect(agentPath.headers["allow"] == "DELETE, GET, HEAD, PATCH")

        let health = try await server.request("POST", "/healthz", body: Data("{}".utf8), headers: [:])
        #expect(health.status == 405)
        #expect(health.headers["allow"] == "GET, HEAD")

        let tool = try await server.request("GET", "/v1/agents/\(agent)/sandbox/bash")
        #expect(tool.status == 405)
        #expect(tool.headers["allow"] == "POST")
    }

    @Test func unknownPathStays404() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.request("GET", "/v1/agents/\(newAgent())/no-such-thing")
        #expect(reply.status == 404)
        #expect(reply.headers["allow"] == nil)
        #expect(reply.string("error")?.contains("GET /openapi.json") == true)
    }

    @Test func headOnAGetRouteAnswersLikeGetWithoutABody() async throws {
        let server = try await TestServer.shared.get()
        let health = try await server.request("HEAD", "/healthz", headers: [:])
        #expect(health.status == 200)
        #expect(health.headers["content-type"]?.hasPrefix("application/json") == true)
        #expect(health.body.isEmpty)

        let agent = newAgent()
        _ = try await server.post("/v1/agents", json: ["agent_id": agent])
        let inspect = try await server.request("HEAD", "/v1/agents/\(agent)")
        #expect(inspect.status == 200)
        #expect(inspect.body.isEmpty)
        let archive = try await server.request("HEAD", "/v1/agents/\(agent)/archive?format=zip")
        #expect(archive.status == 200)
        #expect(archive.headers["content-type"] == "application/zip")
        #expect(archive.body.isEmpty)

        let missing = try await server.request("HEAD", "/v1/agents/\(newAgent())")
        #expect(missing.status == 404)
        #expect(missing.body.isEmpty)
        // The connection is still usable after HEAD replies (no stray body bytes).
        #expect(try await server.request("GET", "/healthz", headers: [:]).status == 200)
    }

    @Test func unusualMethodsNeverAnswer5xx() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        // Methods HTTP/1.1 parsers know, sent raw (FoundationNetworking rewrites some of them). A token
        // the parser itself rejects (`BREW`) is answered by the listener: AdversarialListenerTests.
        for method in ["TRACE", "OPTIONS", "PATCH", "PROPFIND", "MKCOL", "PURGE"] {
            for path in ["/healthz", "/v1/agents/\(agent)", "/v1/agents/\(agent)/sandbox/bash", "/nowhere", "/openapi.json"] {
                let (status, allow) = try await offPool { [port = server.port, key = server.apiKey] in
                    let connection = try LoopbackConnection(port: port, timeout: 30)
                    try connection.sendRequest(method, path, apiKey: key, headers: ["Connection": "close"])
                    try connection.readResponseHead()
                    return (connection.status, connection.headers["allow"])
                }
                #expect(status == 405 || status == 404, "\(method) \(path) answered \(status)")
                if status == 405 { #expect(allow?.isEmpty == false, "\(method) \(path)") }
            }
        }
    }
}
