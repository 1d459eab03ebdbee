import Foundation
import Testing

/// `POST /v1/agents/{id}/tools/call` takes a model's tool call as the model produced it (Anthropic
/// `tool_use`, OpenAI Chat `function` with JSON-string arguments, OpenAI Responses `function_call`, or
/// `{name, input}`), runs arrays concurrently in order, and with `?reply=` answers that API's tool-result
/// message; every one of them runs through the same pipeline as `sandbox/{tool}`.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct ToolCallShapeTests {
    @Test func everyModelShapeRunsTheTool() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let path = "/v1/agents/\(agent)/tools/call"
        let anthropic = try await server.post(path, json: ["type": "tool_use", "id": "toolu_1", "name": "bash", "input": ["command": "echo anthropic"]])
        #expect(anthropic.string("stdout") == "anthropic\n", "\(anthropic.text)")
        let chat = try await server.post(path, json: ["id": "call_1", "type": "function", "function": ["name": "bash", "arguments": "{\"command\": \"echo chat\"}"]])
        #expect(chat.string("stdout") == "chat\n", "\(chat.text)")
        let responses = try await server.post(path, json: ["type": "function_call", "call_id": "fc_1", "name": "bash", "arguments": "{\"command\":\"echo responses\"}"])
        #expect(responses.string("stdout") == "responses\n", "\(responses.text)")
        let plain = try await server.post(path, json: ["name": "bash", "input": ["command": "echo plain"]])
        #expect(plain.string("stdout") == "plain\n", "\(plain.text)")
        let broken = try await server.post(path, json: ["type": "function", "function": ["name": "bash", "arguments": "{not json"]])
        #expect(broken.status == 400 && broken.string("error")?.contains("function.arguments") == true, "\(broken.text)")
    }

    @Test func anArrayRunsConcurrentlyAndAnswersInOrderWrappedForTheModel() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let calls: [[String: Any]] = [
            ["type": "tool_use", "id": "toolu_slow", "name": "bash", "input": ["command": "date +%s.%N; sleep 1; echo first; date +%s.%N"]],
            ["type": "tool_use", "id": "toolu_fast", "name": "bash", "input": ["command": "date +%s.%N; sleep 1; echo second; date +%s.%N"]],
            ["type": "tool_use", "id": "toolu_bad", "name": "file_read", "input": ["path": "missing.txt"]],
        ]
        let reply = try await server.request("POST", "/v1/agents/\(agent)/tools/call?reply=anthropic", body: try JSONSerialization.data(withJSONObject: calls))
        let results = try #require((try? JSONSerialization.jsonObject(with: reply.body)) as? [[String: Any]], "\(reply.text)")
        #expect(results.map { $0["tool_use_id"] as? String } == ["toolu_slow", "toolu_fast", "toolu_bad"])
        #expect(results.allSatisfy { $0["type"] as? String == "tool_result" })
        #expect((results[0]["content"] as? String)?.contains("first") == true)
        #expect((results[1]["content"] as? String)?.contains("second") == true)
        #expect(results[0]["is_error"] as? Bool == false)
        #expect(results[2]["is_error"] as? Bool == true)
        #expect((results[2]["content"] as? String)?.contains("FILE_NOT_FOUND") == true, "\(results[2])")
        // The two commands of one turn ran at the same time: each started before the other ended.
        func span(_ result: [String: Any]) -> (Double, Double)? {
            let times = ((result["content"] as? String) ?? "").split(separator: "\n").compactMap { Double($0) }
            return times.count == 2 ? (times[0], times[1]) : nil
        }
        let first = try #require(span(results[0]), "\(results[0])")
        let second = try #require(span(results[1]), "\(results[1])")
        #expect(first.0 < second.1 && second.0 < first.1, "calls of one turn overlap: \(first) \(second)")
    }

    @Test func openAIRepliesAreToolMessagesOrFunctionCallOutputs() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let chat = try await server.request("POST", "/v1/agents/\(agent)/tools/call?reply=openai", body: try JSONSerialization.data(withJSONObject: [
            "id": "call_9", "type": "function", "function": ["name": "bash", "arguments": "{\"command\": \"echo out; echo err >&2; exit 3\"}"],
        ]))
        #expect(chat.string("role") == "tool" && chat.string("tool_call_id") == "call_9", "\(chat.text)")
        let content = chat.string("content") ?? ""
        #expect(content.contains("out") && content.contains("err") && content.contains("Exit code: 3"), "\(content)")
        let responses = try await server.request("POST", "/v1/agents/\(agent)/tools/call?reply=openai", body: try JSONSerialization.data(withJSONObject: [
            "type": "function_call", "call_id": "fc_9", "name": "glob", "arguments": "{\"pattern\": \"*.nothing\"}",
        ]))
        #expect(responses.string("type") == "function_call_output" && responses.string("call_id") == "fc_9", "\(responses.text)")
        #expect(responses.string("output") == "No files found.")
        let bad = try await server.request("POST", "/v1/agents/\(agent)/tools/call?reply=xml", body: Data("{}".utf8))
        #expect(bad.status == 400 && bad.string("error")?.contains("`reply`") == true)
    }

    @Test func requestIDsAreEchoedAndMetricsCountEveryCallIncludingRefusals() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let given = try await server.request("POST", "/v1/agents/\(agent)/sandbox/bash", body: Data("{\"command\":\"true\"}".utf8),
                                             headers: ["x-api-key": server.apiKey, "x-request-id": "trace-42"])
        #expect(given.headers["x-request-id"] == "trace-42")
        let generated = try await server.request("GET", "/v1/nothing")
        #expect((generated.headers["x-request-id"] ?? "").count >= 8, "an id is generated when none is sent")
        _ = try await server.call("no_such_tool", agent: agent, [:])
        _ = try await server.call("bash", agent: agent, ["command": 1])
        let metrics = try await server.request("GET", "/metrics", headers: [:]).text
        #expect(metrics.contains("agentsandbox_call_duration_seconds_bucket{operation=\"bash\",entry=\"sandbox\",status=\"ok\",le="))
        #expect(metrics.contains("operation=\"unknown_tool\",entry=\"sandbox\",status=\"TOOL_NOT_FOUND\""))
        #expect(metrics.contains("operation=\"bash\",entry=\"sandbox\",status=\"INVALID_REQUEST\""))
        #expect(metrics.contains("agentsandbox_calls_in_flight "))
        #expect(metrics.contains("agentsandbox_agents{state=\"active\"}"))
        #expect(metrics.contains("agentsandbox_exec_sessions_running "))
        #expect(metrics.contains("agentsandbox_warm_sandboxes "))
    }
}
