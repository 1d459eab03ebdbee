import Foundation
import Testing

/// Request-level failures: each gets its status, an envelope naming the problem, and the server
/// keeps serving.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct RequestValidationTests {
    private func expectEnvelope(_ reply: TestServer.Reply, status: Int, code: String, mentioning words: [String] = []) {
        #expect(reply.status == status, "\(reply.text)")
        #expect(reply.string("status") == "error")
        #expect(reply.string("error_code") == code)
        for key in ["stdout", "stderr", "exit_code", "content", "path", "matches", "url", "error"] {
            #expect(reply.json.keys.contains(key), "envelope key \(key) missing")
        }
        for word in words { #expect(reply.string("error")?.contains(word) == true, "error should mention \(word): \(reply.text)") }
    }

    @Test func everyBadInputGetsItsCodeAndTheServerKeepsServing() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        expectEnvelope(try await server.call("no_such_tool", agent: agent, [:]), status: 404, code: "TOOL_NOT_FOUND", mentioning: ["no_such_tool"])
        expectEnvelope(try await server.request("POST", "/v1/agents/\(agent)/sandbox/bash", body: Data("{not json".utf8)), status: 400, code: "INVALID_REQUEST", mentioning: ["JSON"])
        expectEnvelope(try await server.call("bash", agent: agent, ["timeout": 5]), status: 400, code: "INVALID_REQUEST", mentioning: ["command"])
        expectEnvelope(try await server.call("bash", agent: agent, ["command": "true", "timeout": "soon"]), status: 400, code: "INVALID_REQUEST", mentioning: ["timeout"])
        expectEnvelope(try await server.call("bash", agent: agent, ["command": "true", "timeout": 99999]), status: 400, code: "INVALID_REQUEST", mentioning: ["timeout", "3600"])
        expectEnvelope(try await server.call("bash", agent: agent, ["command": 42]), status: 400, code: "INVALID_REQUEST", mentioning: ["command"])
        expectEnvelope(try await server.request("POST", "/v1/agents/\(agent)/sandbox/bash", body: Data("[1,2]".utf8)), status: 400, code: "INVALID_REQUEST")
        expectEnvelope(try await server.call("bash", agent: "not-a-uuid", ["command": "true"]), status: 400, code: "INVALID_REQUEST", mentioning: ["UUID"])
        expectEnvelope(try await server.request("POST", "/v1/agents/\(agent)/sandbox/bash", body: Data("{}".utf8), headers: [:]), status: 401, code: "UNAUTHORIZED")
        expectEnvelope(try await server.request("POST", "/v1/agents/\(agent)/sandbox/bash", body: Data("{}".utf8), headers: ["x-api-key": "wrong"]), status: 401, code: "UNAUTHORIZED")
        expectEnvelope(try await server.request("GET", "/v1/agents", headers: ["Authorization": "Bearer wrong"]), status: 401, code: "UNAUTHORIZED")
        let huge = try JSONSerialization.data(withJSONObject: ["command": "true", "pad": String(repeating: "x", count: 11 << 20)])
        expectEnvelope(try await server.request("POST", "/v1/agents/\(agent)/sandbox/bash", body: huge), status: 413, code: "PAYLOAD_TOO_LARGE")
        expectEnvelope(try await server.request("GET", "/v1/nothing-here"), status: 404, code: "NOT_FOUND")

        let health = try await server.request("GET", "/healthz", headers: [:])
        #expect(health.status == 200)
        let still = try await server.bash(agent, "echo alive")
        #expect(still.string("stdout") == "alive\n")
    }

    @Test func bearerTokenAuthenticatesToo() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.request("GET", "/v1/agents", headers: ["Authorization": "Bearer \(server.apiKey)"])
        #expect(reply.status == 200)
    }

    @Test func toolsCallRouteAcceptsAToolUseBlock() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let reply = try await server.post("/v1/agents/\(agent)/tools/call", json: ["name": "bash", "input": ["command": "echo via-tools-call"]])
        #expect(reply.status == 200)
        #expect(reply.string("stdout") == "via-tools-call\n")
        let missing = try await server.post("/v1/agents/\(agent)/tools/call", json: ["input": [:]])
        expectEnvelope(missing, status: 400, code: "INVALID_REQUEST", mentioning: ["name"])
    }

    @Test func workspaceRouteReturnsToolSpecificBody() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.post("/v1/agents/\(newAgent())/workspace/bash", json: ["command": "echo hi; exit 2"])
        #expect(reply.status == 200)
        #expect(reply.string("stdout") == "hi\n")
        #expect(reply.int("exit_code") == 2)
        #expect(reply.json["duration"] is NSNumber)
        #expect(reply.json["status"] == nil)
    }

    @Test func claudeCodeStyleAliasesAreAccepted() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "mkdir -p d")
        let reply = try await server.call("bash", agent: agent, ["command": "basename $PWD", "cwd": "d"])
        #expect(reply.string("stdout") == "d\n")
    }
}
