import Foundation

/// Exec-session calls against a test server.
extension TestServer {
    func exec(_ agent: String, _ body: [String: Any]) async throws -> Reply {
        try await post("/v1/agents/\(agent)/exec", json: body)
    }

    /// Starts a background session; returns its id.
    func startSession(_ agent: String, _ command: String, _ extra: [String: Any] = [:]) async throws -> String {
        var body = extra
        body["command"] = command
        body["background"] = true
        let reply = try await exec(agent, body)
        guard reply.status == 200, let id = reply.string("session_id") else { throw TestFailure("start failed: \(reply.status) \(reply.text)") }
        return id
    }

    func sessionPath(_ agent: String, _ session: String, _ suffix: String = "") -> String {
        "/v1/agents/\(agent)/exec/\(session)\(suffix)"
    }

    func session(_ agent: String, _ session: String) async throws -> Reply {
        try await request("GET", sessionPath(agent, session))
    }

    func wait(_ agent: String, _ session: String, timeout: Double = 20) async throws -> Reply {
        try await post(sessionPath(agent, session, "/wait"), json: ["timeout": timeout])
    }

    func killSession(_ agent: String, _ session: String, _ signal: Any) async throws -> Reply {
        try await post(sessionPath(agent, session, "/kill"), json: ["signal": signal])
    }

    func sessions(_ agent: String) async throws -> [[String: Any]] {
        try await request("GET", "/v1/agents/\(agent)/exec").json["sessions"] as? [[String: Any]] ?? []
    }

    /// The agent's uid (creating the agent with a trivial command first).
    func uid(of agent: String) async throws -> Int {
        _ = try await bash(agent, "true")
        guard let uid = try await agentInfo(agent).int("uid") else { throw TestFailure("no uid for \(agent)") }
        return uid
    }
}
