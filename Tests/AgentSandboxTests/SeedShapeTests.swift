import Foundation
import Testing

/// The seed APIs' call shapes over real HTTP, with exactly the bodies those APIs document: field names,
/// result shapes, their error body `{error, errorCode, detail}`, 409 paused, 410 deleted, one uid per agent.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct SeedShapeTests {
    @Test func sandboxExecAnswersExitCodeStdoutAndStderr() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.post("/sandboxes/\(newAgent())/exec", json: ["command": "echo hi; echo oops >&2; exit 3"])
        #expect(reply.status == 200)
        #expect(reply.int("exitCode") == 3)
        #expect(reply.string("stdout") == "hi\n")
        #expect(reply.string("stderr") == "oops\n")
    }

    @Test func errorsUseTheSeedErrorBody() async throws {
        let server = try await TestServer.shared.get()
        let missing = try await server.post("/sandboxes/\(newAgent())/exec", json: [String: Any]())
        #expect(missing.status == 400)
        #expect(missing.string("errorCode") == "INVALID_REQUEST")
        #expect(missing.string("error")?.contains("command") == true)
        #expect((missing.json["detail"] as? [String: Any])?["status"] as? Int == 400)
        #expect(missing.json["status"] == nil, "not our envelope")
        let unauthenticated = try await server.request("POST", "/sandboxes/\(newAgent())/exec", body: Data(#"{"command":"true"}"#.utf8), headers: ["Content-Type": "application/json"])
        #expect(unauthenticated.status == 401)
        #expect(unauthenticated.string("errorCode") == "UNAUTHORIZED")
        let notAUUID = try await server.post("/sandboxes/not-a-sandbox/commands", json: ["cmd": "true"])
        #expect(notAUUID.status == 400)
        #expect(notAUUID.string("errorCode") == "INVALID_REQUEST")
        let badCwd = try await server.post("/sandboxes/\(newAgent())/exec", json: ["command": "true", "cwd": "no/such/dir"])
        #expect(badCwd.status == 400, "a tool-level failure is not a 200 in the seed shapes")
        #expect(badCwd.string("errorCode") == "FILE_NOT_FOUND")
    }

    @Test func aTimeoutKeepsThePartialOutputWithExitCode124() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.post("/sandboxes/\(newAgent())/exec", json: ["command": "echo started; sleep 30", "timeout": 1])
        #expect(reply.status == 200)
        #expect(reply.int("exitCode") == 124)
        #expect(reply.string("stdout") == "started\n")
        #expect(reply.string("errorCode") == "TIMEOUT")
    }

    @Test func commandsRunInTheForegroundWithEnvsAndNoTimeout() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.post("/sandboxes/\(newAgent())/commands", json: ["cmd": "echo $GREETING; cat", "envs": ["GREETING": "hello"], "timeout": 0, "stdin": "from stdin"])
        #expect(reply.status == 200)
        #expect(reply.string("stdout") == "hello\nfrom stdin")
        #expect(reply.string("stderr") == "")
        #expect(reply.int("exit_code") == 0)
        let env = try await server.post("/sandboxes/\(newAgent())/commands", json: ["cmd": "echo $A", "env": ["A": "alias"]])
        #expect(env.string("stdout") == "alias\n")
    }

    @Test func backgroundCommandTakesStdinAndIsWaitedByPid() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let started = try await server.post("/sandboxes/\(agent)/commands", json: ["cmd": "read line; echo got $line; exit 4", "background": true, "stdin": true])
        #expect(started.status == 200)
        let pid = try #require(started.int("pid"))
        let session = try #require(started.string("session_id"))
        let fed = try await server.post("/sandboxes/\(agent)/commands/\(pid)/stdin", json: ["data": "ping\n"])
        #expect(fed.status == 200)
        let waited = try await server.post("/sandboxes/\(agent)/commands/\(pid)/wait", json: [String: Any]())
        #expect(waited.status == 200)
        #expect(waited.string("stdout") == "got ping\n")
        #expect(waited.int("exit_code") == 4)
        // The stream replays the whole output, addressed by the session id as well.
        let events = try await offPool {
            let client = try SSEClient(server, "/sandboxes/\(agent)/commands/\(session)/stream")
            defer { client.close() }
            return try client.read()
        }
        #expect(events.text() == "got ping\n")
        #expect(events.last?.event == "exit")
    }

    @Test func killEndsABackgroundCommand() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let pid = try #require(try await server.post("/sandboxes/\(agent)/commands", json: ["cmd": "sleep 600", "background": true]).int("pid"))
        let killed = try await server.post("/sandboxes/\(agent)/commands/\(pid)/kill", json: [String: Any]())
        #expect(killed.status == 200)
        #expect(killed.bool("killed") == true)
        #expect(killed.string("signal") == "SIGKILL")
        let waited = try await server.post("/sandboxes/\(agent)/commands/\(pid)/wait", json: [String: Any]())
        #expect(waited.int("exit_code") == 137)
        let unknown = try await server.post("/sandboxes/\(agent)/commands/999999/wait", json: [String: Any]())
        #expect(unknown.status == 404)
        #expect(unknown.string("errorCode") == "SESSION_NOT_FOUND")
    }

    @Test func aUserOtherThanTheAgentIsA400() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let uid = try await server.uid(of: agent)
        for user: Any in ["root", 0, "nobody", uid + 1] {
            let reply = try await server.post("/sandboxes/\(agent)/commands", json: ["cmd": "id -u", "user": user])
            #expect(reply.status == 400, "user \(user)")
            #expect(reply.string("error")?.contains("`user`") == true)
        }
        for user: Any in ["agent", uid, String(uid)] {
            let reply = try await server.post("/sandboxes/\(agent)/commands", json: ["cmd": "id -u", "user": user])
            #expect(reply.string("stdout") == "\(uid)\n", "user \(user)")
        }
        let rest = try await server.exec(agent, ["command": "id -u", "user": "root"])
        #expect(rest.status == 400)
        #expect(rest.string("error_code") == "INVALID_REQUEST")
    }

    @Test func aPausedSandboxIs409AndADeletedOne410() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let pid = try #require(try await server.post("/sandboxes/\(agent)/commands", json: ["cmd": "sleep 600", "background": true]).int("pid"))
        #expect(try await server.request("POST", "/v1/agents/\(agent)/suspend").status == 200)
        for (path, body) in [("/sandboxes/\(agent)/exec", ["command": "true"]), ("/sandboxes/\(agent)/commands", ["cmd": "true"]),
                             ("/sandboxes/\(agent)/commands/\(pid)/wait", [:]), ("/api/v1/sandboxes/\(agent)/exec", ["command": "true"])] {
            let reply = try await server.post(path, json: body)
            #expect(reply.status == 409, "\(path)")
            #expect(reply.string("errorCode") == "AGENT_SUSPENDED", "\(path)")
        }
        #expect(try await server.request("POST", "/v1/agents/\(agent)/resume").status == 200)
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)").status == 200)
        let gone = try await server.post("/sandboxes/\(agent)/exec", json: ["command": "true"])
        #expect(gone.status == 410)
        #expect(gone.string("errorCode") == "AGENT_DELETED")
        #expect(try await server.post("/sandboxes/\(agent)/commands/\(pid)/kill", json: [String: Any]()).status == 410)
    }

    @Test func apiV1ExecTakesOptionsAndAnswersSuccess() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "mkdir -p sub")
        let body: [String: Any] = ["command": "pwd; echo $A; cat", "options": ["timeout": 30, "stdin": "input", "env": ["A": "1"], "cwd": "sub"]]
        let reply = try await server.post("/api/v1/sandboxes/\(agent)/exec", json: body)
        #expect(reply.status == 200)
        let lines = reply.string("stdout")?.split(separator: "\n").map(String.init) ?? []
        #expect(lines.first?.hasSuffix("/sub") == true)
        #expect(Array(lines.dropFirst()) == ["1", "input"])
        #expect(reply.int("exitCode") == 0)
        #expect(reply.bool("success") == true)
        let failed = try await server.post("/api/v1/sandboxes/\(agent)/exec", json: ["command": "exit 2"])
        #expect(failed.bool("success") == false)
        #expect(failed.int("exitCode") == 2)
        let background = try await server.post("/api/v1/sandboxes/\(agent)/exec", json: ["command": "sleep 1", "options": ["background": true]])
        #expect(background.bool("success") == true)
        #expect(background.string("sessionId")?.hasPrefix("sess_") == true)
    }

    @Test func apiV1ExecStreamsAsSSEWhenAsked() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let body = try JSONSerialization.data(withJSONObject: ["command": "echo one; echo two >&2; exit 5", "options": ["timeout": 30]])
        let events = try await offPool {
            let client = try SSEClient(server, "/api/v1/sandboxes/\(agent)/exec", method: "POST", body: body)
            defer { client.close() }
            return (client.status, try client.read())
        }
        #expect(events.0 == 200)
        #expect(events.1.text() == "one\n")
        #expect(events.1.text("stderr") == "two\n")
        #expect(events.1.last?.event == "exit")
        #expect(events.1.last?.data.contains("\"exit_code\":5") == true)
    }
}
