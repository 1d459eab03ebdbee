import Foundation
import Testing

/// `POST /v1/agents/{id}/cwd`: a persistent working directory, validated inside the workspace, stored
/// with the agent, shown by `GET /v1/agents/{id}`, where an exec without `cwd` starts.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct WorkingDirectoryTests {
    @Test func execWithoutCwdStartsInTheAgentsWorkingDirectory() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "mkdir -p proj/src")
        let set = try await server.post("/v1/agents/\(agent)/cwd", json: ["path": "proj"])
        #expect(set.status == 200)
        #expect(set.string("cwd") == "proj")
        #expect(try await server.agentInfo(agent).string("cwd") == "proj")

        let rest = try await server.exec(agent, ["command": "pwd"])
        #expect(rest.string("stdout")?.hasSuffix("/proj\n") == true)
        let seed = try await server.post("/sandboxes/\(agent)/exec", json: ["command": "pwd"])
        #expect(seed.string("stdout")?.hasSuffix("/proj\n") == true)
        let commands = try await server.post("/sandboxes/\(agent)/commands", json: ["cmd": "pwd"])
        #expect(commands.string("stdout")?.hasSuffix("/proj\n") == true)
        // An explicit cwd is still relative to the workspace root.
        let explicit = try await server.exec(agent, ["command": "pwd", "cwd": "proj/src"])
        #expect(explicit.string("stdout")?.hasSuffix("/proj/src\n") == true)
        // The bash tool's working_dir stays relative to the root, like every other tool's paths.
        let bash = try await server.bash(agent, "pwd")
        #expect(bash.string("stdout")?.hasSuffix("/proj\n") == false)

        let reset = try await server.post("/v1/agents/\(agent)/cwd", json: ["path": ""])
        #expect(reset.string("cwd") == "")
        #expect(try await server.exec(agent, ["command": "pwd"]).string("stdout") == bash.string("stdout"))
    }

    @Test func theWorkingDirectorySurvivesARestart() async throws {
        let server = try await TestServer().start()
        defer { server.stop() }
        let agent = newAgent()
        _ = try await server.bash(agent, "mkdir -p kept")
        #expect(try await server.post("/v1/agents/\(agent)/cwd", json: ["path": "./kept/"]).string("cwd") == "kept")
        try await server.restart()
        #expect(try await server.agentInfo(agent).string("cwd") == "kept")
        #expect(try await server.exec(agent, ["command": "pwd"]).string("stdout")?.hasSuffix("/kept\n") == true)
    }

    @Test func aDirectoryOutsideTheWorkspaceOrMissingIsRefused() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "ln -s / escape; touch file")
        for (path, code) in [("..", "PATH_OUTSIDE_WORKSPACE"), ("/etc", "PATH_OUTSIDE_WORKSPACE"), ("escape", "PATH_OUTSIDE_WORKSPACE"),
                             ("missing", "FILE_NOT_FOUND"), ("file", "NOT_A_DIRECTORY")] {
            let reply = try await server.post("/v1/agents/\(agent)/cwd", json: ["path": path])
            #expect(reply.string("status") == "error", "\(path)")
            #expect(reply.string("error_code") == code, "\(path): \(reply.text)")
        }
        #expect(try await server.agentInfo(agent).string("cwd") == "", "nothing was stored")
        let missingField = try await server.post("/v1/agents/\(agent)/cwd", json: [String: Any]())
        #expect(missingField.status == 400)
    }

    @Test func aRemovedWorkingDirectoryIsAClearError() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "mkdir gone")
        _ = try await server.post("/v1/agents/\(agent)/cwd", json: ["path": "gone"])
        _ = try await server.bash(agent, "rmdir gone")
        let reply = try await server.exec(agent, ["command": "pwd"])
        #expect(reply.string("error")?.contains("POST /v1/agents/\(agent)/cwd") == true)
    }
}
