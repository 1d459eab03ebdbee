import Foundation
import Testing

/// `/v1/agents/{id}/mcp` over real HTTP: sessions go through the call pipeline (admission, audit,
/// metrics under `entry="mcp"`), and the session tools (`exec_start`, `exec_output`, `exec_kill`) are
/// adapters of the exec operations. (The official Python client covers the protocol end to end:
/// Tests/clients/test_mcp_http.py and test_mcp_stdio.py.)
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct MCPRouteTests {
    /// One MCP session over raw HTTP.
    struct Session {
        let server: TestServer
        let agent: String
        let id: String
        var path: String { "/v1/agents/\(agent)/mcp" }

        static func open(_ server: TestServer, agent: String) async throws -> Session {
            let reply = try await server.request("POST", "/v1/agents/\(agent)/mcp", body: MCPRouteTests.initialize, headers: MCPRouteTests.headers(server))
            #expect(reply.status == 200, "\(reply.text)")
            let id = try #require(reply.headers["mcp-session-id"])
            let session = Session(server: server, agent: agent, id: id)
            _ = try await session.send(["jsonrpc": "2.0", "method": "notifications/initialized"])
            return session
        }

        func send(_ message: [String: Any]) async throws -> TestServer.Reply {
            var headers = MCPRouteTests.headers(server)
            headers["mcp-session-id"] = id
            return try await server.request("POST", path, body: try JSONSerialization.data(withJSONObject: message), headers: headers)
        }

        /// `tools/call`: the result object (`content`, `structuredContent`, `isError`).
        func call(_ tool: String, _ arguments: [String: Any]) async throws -> [String: Any] {
            let reply = try await send(["jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": ["name": tool, "arguments": arguments]])
            return try #require(reply.json["result"] as? [String: Any], "\(reply.text)")
        }
    }

    static let initialize = try! JSONSerialization.data(withJSONObject: [
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": ["protocolVersion": "2025-11-25", "capabilities": [String: Any](), "clientInfo": ["name": "swift-test", "version": "0"]],
    ])

    static func headers(_ server: TestServer) -> [String: String] {
        ["x-api-key": server.apiKey, "accept": "application/json, text/event-stream", "content-type": "application/json"]
    }

    static func structured(_ result: [String: Any]) -> [String: Any] { result["structuredContent"] as? [String: Any] ?? [:] }

    static func text(_ result: [String: Any]) -> String {
        ((result["content"] as? [[String: Any]]) ?? []).compactMap { $0["text"] as? String }.joined(separator: "\n")
    }

    @Test func sessionToolsStartReadAndKillABackgroundCommand() async throws {
        let server = try await TestServer.shared.get()
        let session = try await Session.open(server, agent: newAgent())
        let started = try await session.call("exec_start", ["command": "echo ready; sleep 60", "wait": 0.5])
        let state = Self.structured(started)
        #expect(state["state"] as? String == "running" && state["stdout"] as? String == "ready\n", "\(started)")
        let id = try #require(state["session_id"] as? String)
        #expect(Self.text(started).hasPrefix("Session \(id): running, pid "))
        let killed = try await session.call("exec_kill", ["session_id": id, "signal": "KILL"])
        #expect(Self.structured(killed)["signal_sent"] as? String == "SIGKILL", "\(killed)")
        let output = try await session.call("exec_output", ["session_id": id, "wait": 5])
        #expect(Self.structured(output)["state"] as? String == "killed" && Self.structured(output)["exit_code"] as? Int == 137, "\(output)")
        // The same session through the REST route: one exec service behind both doors.
        let rest = try await server.request("GET", "/v1/agents/\(session.agent)/exec/\(id)")
        #expect(rest.string("state") == "killed")
    }

    @Test func sessionToolFailuresAreIsErrorWithTheSentence() async throws {
        let server = try await TestServer.shared.get()
        let session = try await Session.open(server, agent: newAgent())
        let unknown = try await session.call("exec_output", ["session_id": "nope"])
        #expect(unknown["isError"] as? Bool == true && Self.structured(unknown)["error_code"] as? String == "SESSION_NOT_FOUND", "\(unknown)")
        let badWait = try await session.call("exec_start", ["command": "true", "wait": "soon"])
        #expect(badWait["isError"] as? Bool == true && Self.text(badWait).contains("wait"), "\(badWait)")
        let badSignal = try await session.call("exec_kill", ["session_id": "nope", "signal": "SIGNOPE"])
        #expect(badSignal["isError"] as? Bool == true && Self.structured(badSignal)["error_code"] as? String == "INVALID_REQUEST", "\(badSignal)")
    }

    @Test func callsAreCountedUnderTheMCPEntry() async throws {
        let server = try await TestServer.shared.get()
        let session = try await Session.open(server, agent: newAgent())
        let result = try await session.call("bash", ["command": "echo counted"])
        #expect(Self.structured(result)["stdout"] as? String == "counted\n")
        let metrics = try await server.request("GET", "/metrics").text
        #expect(metrics.contains(#"operation="bash",entry="mcp",status="ok""#))
        #expect(metrics.contains(#"operation="mcp.initialize",entry="mcp",status="ok""#))
    }

    @Test func aSuspendedAgentCannotOpenASession() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        #expect(try await server.request("POST", "/v1/agents", body: try JSONSerialization.data(withJSONObject: ["agent_id": agent])).status == 201)
        #expect(try await server.request("POST", "/v1/agents/\(agent)/suspend").status == 200)
        let refused = try await server.request("POST", "/v1/agents/\(agent)/mcp", body: Self.initialize, headers: Self.headers(server))
        #expect(refused.status == 409 && refused.string("error_code") == "AGENT_SUSPENDED", "\(refused.text)")
    }

    @Test func deleteEndsTheSession() async throws {
        let server = try await TestServer.shared.get()
        let session = try await Session.open(server, agent: newAgent())
        let ping: [String: Any] = ["jsonrpc": "2.0", "id": 2, "method": "ping"]
        #expect(try await session.send(ping).status == 200)
        var headers = Self.headers(server)
        headers["mcp-session-id"] = session.id
        #expect(try await server.request("DELETE", session.path, headers: headers).status == 200)
        #expect(try await session.send(ping).status == 404)
    }
}
