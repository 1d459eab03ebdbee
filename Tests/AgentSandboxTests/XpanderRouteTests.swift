import Foundation
import Testing

/// xpander's SDK route, `POST /workspace/{agent_id}/tools/{tool_name}`, with the bodies the SDK sends;
/// `mcp_list_tools` / `mcp_call_tool` against a stdio MCP server that runs inside the agent's sandbox.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct XpanderRouteTests {
    func tool(_ server: TestServer, _ agent: String, _ name: String, _ body: [String: Any]) async throws -> TestServer.Reply {
        try await server.post("/workspace/\(agent)/tools/\(name)", json: body)
    }

    @Test func fileWriteAppendAndReadWithTheSDKsBodies() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        #expect(try await tool(server, agent, "file_write", ["path": "notes/log.txt", "content": "one\n"]).status == 200)
        #expect(try await tool(server, agent, "file_write", ["path": "notes/log.txt", "content": "two\n", "mode": "a"]).status == 200)
        let read = try await tool(server, agent, "file_read", ["path": "notes/log.txt"])
        #expect(read.status == 200)
        #expect(read.string("content") == "one\ntwo\n")
    }

    @Test func readingAMissingFileSaysFileNotFound() async throws {
        let server = try await TestServer.shared.get()
        let read = try await tool(server, newAgent(), "file_read", ["path": "nope.txt"])
        #expect(read.text.lowercased().contains("file not found"))
        #expect(read.string("error")?.lowercased().contains("file not found") == true)
    }

    @Test func otherToolsAnswerTheWorkspaceFamilyAndTheKeyIsRequired() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let bash = try await tool(server, agent, "bash", ["command": "echo hi"])
        #expect(bash.string("stdout") == "hi\n")
        #expect(bash.int("exit_code") == 0)
        #expect(bash.json["duration"] is NSNumber)
        let unknown = try await tool(server, agent, "no_such_tool", [:])
        #expect(unknown.status == 404)
        let anonymous = try await server.request("POST", "/workspace/\(agent)/tools/bash", body: Data(#"{"command":"id"}"#.utf8), headers: ["Content-Type": "application/json"])
        #expect(anonymous.status == 401)
    }

    @Test func mcpListThenCallRunsOneWarmServerAsTheAgent() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let uid = try await server.uid(of: agent)
        let command = try await TinyMCPServer.install(on: server, agent: agent)
        let base: [String: Any] = ["command": command, "name": "tiny", "env_vars": ["GREETING": "hello"], "timeout": 30]

        let listed = try await tool(server, agent, "mcp_list_tools", base)
        #expect(listed.status == 200)
        let tools = listed.json["tools"] as? [[String: Any]] ?? []
        #expect(tools.map { $0["name"] as? String } == ["whoami", "add", "fail"])
        #expect((tools.first { $0["name"] as? String == "add" }?["input_schema"] as? [String: Any])?["required"] as? [String] == ["a", "b"])

        var whoami: [[String: Any]] = []
        for _ in 0..<2 {
            let called = try await tool(server, agent, "mcp_call_tool", base.merging(["tool": "whoami", "arguments": [String: Any]()]) { $1 })
            #expect(called.bool("is_error") == false)
            let text = try #require((called.json["content"] as? [[String: Any]])?.first?["text"] as? String)
            whoami.append(try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]))
        }
        #expect(whoami[0]["uid"] as? Int == uid, "the server runs as the agent")
        #expect(whoami[0]["greeting"] as? String == "hello")
        #expect(whoami[0]["pid"] as? Int == whoami[1]["pid"] as? Int, "list, then two calls: one server")
        #expect(whoami[0]["token"] as? String == whoami[1]["token"] as? String)
        let servers = try await server.sessions(agent).filter { $0["command"] as? String == command }
        #expect(servers.count == 1, "started once, as an exec session of the agent")

        let sum = try await tool(server, agent, "mcp_call_tool", base.merging(["tool": "add", "arguments": ["a": 2, "b": 40]]) { $1 })
        #expect((sum.json["content"] as? [[String: Any]])?.first?["text"] as? String == "42")
        #expect((sum.json["structured_content"] as? [String: Any])?["sum"] as? Int == 42)
        // Another env is another server.
        let other = try await tool(server, agent, "mcp_call_tool", base.merging(["tool": "whoami", "env_vars": ["GREETING": "bye"]]) { $1 })
        #expect(other.bool("is_error") == false)
        #expect(try await server.sessions(agent).filter { $0["command"] as? String == command && $0["running"] as? Bool == true }.count == 2)
    }

    @Test func toolFailuresAndBrokenServersAreIsError() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let command = try await TinyMCPServer.install(on: server, agent: agent)
        let failed = try await tool(server, agent, "mcp_call_tool", ["command": command, "name": "tiny", "tool": "fail", "arguments": [String: Any]()])
        #expect(failed.status == 200)
        #expect(failed.bool("is_error") == true)
        #expect((failed.json["content"] as? [[String: Any]])?.first?["text"] as? String == "it failed")
        let unknown = try await tool(server, agent, "mcp_call_tool", ["command": command, "name": "tiny", "tool": "nope"])
        #expect(unknown.bool("is_error") == true)
        #expect(unknown.text.contains("Unknown tool: nope"))

        let cases: [(String, String)] = [("echo hello; sleep 30", "not a JSON-RPC message"), ("echo broken >&2; exit 3", "exit code 3"), ("sleep 30", "did not answer")]
        for (broken, expected) in cases {
            let reply = try await tool(server, agent, "mcp_call_tool", ["command": broken, "name": "broken", "tool": "x", "timeout": 2])
            #expect(reply.status == 200, "\(broken)")
            #expect(reply.bool("is_error") == true, "\(broken)")
            let text = (reply.json["content"] as? [[String: Any]])?.first?["text"] as? String ?? ""
            #expect(text.contains(expected), "\(broken): \(text)")
        }
        var leftRunning: [[String: Any]] = []
        for _ in 0..<100 {  // killed at once; the session notices within milliseconds
            leftRunning = try await server.sessions(agent).filter { $0["command"] as? String != command && $0["running"] as? Bool == true }
            if leftRunning.isEmpty { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(leftRunning.isEmpty, "failed servers are stopped: \(leftRunning)")
        let listed = try await tool(server, agent, "mcp_list_tools", ["command": "exit 1", "name": "x", "timeout": 5])
        #expect(listed.bool("is_error") == true)
        #expect((listed.json["tools"] as? [Any])?.isEmpty == true)
        let invalid = try await tool(server, agent, "mcp_call_tool", ["command": command])
        #expect(invalid.status == 400, "a missing `tool` is a request error")
    }

    @Test func warmServersStopWhenTheAgentIsSuspendedOrDeleted() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let uid = try await server.uid(of: agent)
        let command = try await TinyMCPServer.install(on: server, agent: agent)
        let body: [String: Any] = ["command": command, "name": "tiny", "tool": "whoami"]
        #expect(try await tool(server, agent, "mcp_call_tool", body).bool("is_error") == false)
        #expect(!processes(ownedBy: uid).isEmpty)
        #expect(try await server.request("POST", "/v1/agents/\(agent)/suspend").status == 200)
        #expect(await eventually(within: 5) { processes(ownedBy: uid).isEmpty })
        #expect(try await tool(server, agent, "mcp_call_tool", body).status == 409)
        #expect(try await server.request("POST", "/v1/agents/\(agent)/resume").status == 200)
        let again = try await tool(server, agent, "mcp_call_tool", body)
        #expect(again.bool("is_error") == false, "a fresh server after resume: \(again.text)")
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)").status == 200)
        #expect(await eventually(within: 5) { processes(ownedBy: uid).isEmpty })
    }
}
