import Foundation
import Testing

/// Exec tokens over real HTTP: minted with the API key, they open `GET /v1/agents/{id}/terminal` once
/// without it — refused before the upgrade when unknown, expired, used or foreign — and never show up in
/// the server's log, metrics or database.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct ExecTokenTests {
    @Test func aTokenOpensTheTerminalOnceWithoutTheAPIKey() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let reply = try await server.mintToken(agent, ["cols": 90, "rows": 20])
        #expect(reply.status == 200, "\(reply.text)")
        let token = try #require(reply.string("token"))
        #expect(token.hasPrefix("est_") && token.count >= 4 + 22, "at least 128 bits")
        #expect(reply.string("url") == "ws://127.0.0.1:\(server.port)/v1/agents/\(agent)/terminal?token=\(token)")
        #expect(reply.string("terminal_url")?.hasSuffix("/terminal#token=\(token)&agent=\(agent)") == true)
        #expect(reply.string("expires_at") != nil)
        let screen = try #require(try server.openTerminal(agent, token: token).screen)
        try await offPool { try screen.type("stty size; echo marker-$((6*7))\r"); try screen.read { $0.contains("marker-42") } }
        #expect(screen.text.contains("20 90"), "the token's size: \(screen.text)")
        #expect(screen.hello?["session_id"] is String && screen.hello?["reconnect_token"] is String)
        let again = try server.openTerminal(agent, token: token)
        #expect(again.refusal?.status == 401 && again.refusal?.code == "TOKEN_USED", "single use")
        // The reconnect token from the first message re-attaches to the same session, once.
        let reconnect = try #require(screen.hello?["reconnect_token"] as? String)
        screen.close()
        let back = try #require(try server.openTerminal(agent, token: reconnect).screen)
        try await offPool { try back.read { $0.contains("marker-42") } }
        #expect(back.hello?["session_id"] as? String == screen.hello?["session_id"] as? String)
        try back.type("exit\r")
        #expect(try await offPool { try back.readToClose() } == 4000)
    }

    @Test func expiredUnknownAndMissingTokensAreRefusedBeforeTheUpgrade() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let token = try await server.token(agent, ["ttl": 1])
        try await Task.sleep(for: .milliseconds(1500))
        let expired = try server.openTerminal(agent, token: token)
        #expect(expired.refusal?.status == 401 && expired.refusal?.code == "TOKEN_EXPIRED")
        let unknown = try server.openTerminal(agent, token: "est_" + String(repeating: "A", count: 43))
        #expect(unknown.refusal?.status == 401 && unknown.refusal?.code == "TOKEN_INVALID")
        let missing = try server.openTerminal(agent, token: nil)
        #expect(missing.refusal?.status == 401 && missing.refusal?.code == "UNAUTHORIZED")
        // Other routes still need the key, token or not.
        let other = try await server.request("GET", "/v1/agents/\(agent)/exec?token=\(token)", headers: [:])
        #expect(other.status == 401)
        // ttl beyond 10 minutes, an unknown session.
        #expect(try await server.mintToken(agent, ["ttl": 601]).status == 400)
        #expect(try await server.mintToken(agent, ["session_id": "sess_nope"]).status == 404)
    }

    @Test func aForeignAgentOrSessionIs403AndLeavesTheTokenUsable() async throws {
        let server = try await TestServer.shared.get()
        let (agent, other) = (newAgent(), newAgent())
        let token = try await server.token(agent)
        let foreign = try server.openTerminal(other, token: token)
        #expect(foreign.refusal?.status == 403 && foreign.refusal?.code == "TOKEN_FOREIGN")
        let wrongSession = try server.openTerminal(agent, token: token, session: "sess_0000000000000000")
        #expect(wrongSession.refusal?.status == 403 && wrongSession.refusal?.code == "TOKEN_FOREIGN")
        let screen = try #require(try server.openTerminal(agent, token: token).screen, "still usable by its own agent")
        try screen.type("exit\r")
        _ = try await offPool { try screen.readToClose() }

        let session = try #require(try await server.exec(agent, ["tty": true, "command": "sleep 60"]).string("session_id"))
        let scoped = try await server.token(agent, ["session_id": session])
        let elsewhere = try #require(try await server.exec(agent, ["tty": true, "command": "sleep 60"]).string("session_id"))
        let refused = try server.openTerminal(agent, token: scoped, session: elsewhere)
        #expect(refused.refusal?.status == 403 && refused.refusal?.code == "TOKEN_FOREIGN")
        let attached = try #require(try server.openTerminal(agent, token: scoped, session: session).screen)
        attached.close()
        for id in [session, elsewhere] { _ = try await server.killSession(agent, id, "KILL") }
    }

    @Test func theSubprotocolCarriesTheTokenAndIsEchoed() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let token = try await server.token(agent, ["command": "echo via-protocol; sleep 30"])
        let attempt = try server.openTerminal(agent, token: token, protocols: ["agent-sandbox.terminal", "token." + token])
        let screen = try #require(attempt.screen)
        #expect(screen.connection.headers["sec-websocket-protocol"] == "agent-sandbox.terminal")
        try await offPool { try screen.read { $0.contains("via-protocol") } }
        screen.close()
        // A plain GET (no upgrade) explains and does not spend the token.
        let fresh = try await server.token(agent)
        let plain = try await server.request("GET", "/v1/agents/\(agent)/terminal?token=\(fresh)", headers: [:])
        #expect(plain.status == 400 && plain.string("error_code") == "INVALID_REQUEST")
        #expect(try server.openTerminal(agent, token: fresh).screen != nil)
    }

    @Test func tokensNeverAppearInTheLogMetricsOrDatabase() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        var tokens: [String] = []
        for _ in 0..<3 {
            let token = try await server.token(agent, ["command": "true"])
            tokens.append(token)
            if let screen = try server.openTerminal(agent, token: token).screen { _ = try await offPool { try screen.readToClose() } }
            _ = try server.openTerminal(agent, token: token)  // refused: TOKEN_USED
            _ = try await server.request("GET", "/v1/agents/\(agent)/terminal?token=\(token)", headers: [:])
        }
        let metrics = try await server.request("GET", "/metrics", headers: [:]).text
        #expect(metrics.contains("exec.token"), "the minting was counted")
        let log = (try? String(contentsOfFile: server.logPath, encoding: .utf8)) ?? ""
        let state = server.dataRoot.appendingPathComponent(".agentsandbox")
        let database = ((try? FileManager.default.contentsOfDirectory(atPath: state.path)) ?? []).filter { $0.hasPrefix("agentsandbox.sqlite") }
            .compactMap { FileManager.default.contents(atPath: state.appendingPathComponent($0).path) }
        #expect(!database.isEmpty)
        for token in tokens {
            let secret = String(token.dropFirst(4))
            #expect(!metrics.contains(secret))
            #expect(!log.contains(secret))
            #expect(!database.contains { $0.range(of: Data(secret.utf8)) != nil })
        }
    }
}
