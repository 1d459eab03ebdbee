import Foundation
import Testing

/// `tty: true` exec sessions over real HTTP and WebSocket: a real pseudo-terminal inside the agent's
/// sandbox (isatty, size, resize and SIGWINCH, Ctrl-C to the foreground job, exit ends the session), and
/// its master side never reachable by the agent.
@Suite(.enabled(if: isRoot, "needs root to switch uids"), .serialized)
struct TerminalSessionTests {
    /// The output of a session's `/ws` (JSON events) until `condition` holds on it.
    private func readEvents(_ socket: WebSocketClient, until condition: @escaping (String) -> Bool) throws -> String {
        var text = ""
        _ = try socket.receive { message in
            if let data = message.json["data"] as? String {
                text += message.json["encoding"] as? String == "base64" ? String(decoding: Data(base64Encoded: data) ?? Data(), as: UTF8.self) : data
            }
            return condition(text)
        }
        guard condition(text) else { throw TestFailure("session output ended without the expected text; got:\n\(text)") }
        return text
    }

    @Test func ttySessionRunsInATerminalOfTheRequestedSize() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let command = "if [ -t 0 ] && [ -t 1 ] && [ -t 2 ]; then echo tty-yes; else echo tty-no; fi; stty size; echo \"term=$TERM\"; awk '{print \"ctty=\" ($7 != 0)}' /proc/$$/stat"
        let reply = try await server.exec(agent, ["command": command, "tty": true, "cols": 123, "rows": 45])
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.bool("tty") == true)
        #expect(reply.int("cols") == 123 && reply.int("rows") == 45)
        let session = try #require(reply.string("session_id"))
        let done = try await server.wait(agent, session)
        let output = done.string("stdout") ?? ""
        #expect(output.contains("tty-yes"), "\(output)")
        #expect(output.contains("45 123"), "stty size shows rows cols: \(output)")
        #expect(output.contains("term=xterm-256color"))
        #expect(output.contains("ctty=1"), "the terminal is the shell's controlling tty: \(output)")
        #expect(output.contains("\r\n"), "the line discipline turns \\n into \\r\\n: \(output)")
        #expect(done.string("state") == "exited" && done.int("exit_code") == 0, "\(done.text)")
        // Pipes stay pipes: a session without tty has no terminal.
        let plain = try await server.exec(agent, ["command": "[ -t 1 ] && echo tty-yes || echo tty-no"])
        #expect(plain.string("stdout") == "tty-no\n")
    }

    @Test func resizeOverHTTPAndWebSocketReachesTheShellAsSIGWINCH() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let command = "trap 'echo \"size=$(stty size)\"' WINCH; echo ready; while :; do sleep 0.05; done"
        let reply = try await server.exec(agent, ["command": command, "tty": true, "cols": 80, "rows": 24])
        let session = try #require(reply.string("session_id"))
        let socket = try await offPool { try WebSocketClient(server, server.sessionPath(agent, session, "/ws")) }
        _ = try await offPool { try self.readEvents(socket) { $0.contains("ready") } }
        let resized = try await server.post(server.sessionPath(agent, session, "/resize"), json: ["cols": 132, "rows": 50])
        #expect(resized.status == 200, "\(resized.text)")
        #expect(resized.int("cols") == 132 && resized.int("rows") == 50)
        _ = try await offPool { try self.readEvents(socket) { $0.contains("size=50 132") } }
        try socket.send(text: #"{"type":"resize","cols":100,"rows":30}"#)
        _ = try await offPool { try self.readEvents(socket) { $0.contains("size=30 100") } }
        #expect(try await server.session(agent, session).int("cols") == 100)
        let bad = try await server.post(server.sessionPath(agent, session, "/resize"), json: ["cols": 0, "rows": 30])
        #expect(bad.status == 400)
        socket.close()
        _ = try await server.killSession(agent, session, "KILL")
        // A session without a terminal cannot be resized.
        let plain = try await server.startSession(agent, "sleep 30")
        let refused = try await server.post(server.sessionPath(agent, plain, "/resize"), json: ["cols": 100, "rows": 30])
        #expect(refused.status == 400 && refused.string("error_code") == "INVALID_REQUEST")
        _ = try await server.killSession(agent, plain, "KILL")
    }

    @Test func ctrlCInterruptsTheForegroundJobAndTheShellSurvives() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let uid = try await server.uid(of: agent)
        let token = try await server.token(agent, ["cols": 100, "rows": 30])
        let screen = try #require(try server.openTerminal(agent, token: token).screen)
        try await offPool { try screen.type("echo shell-$((40+2))\r"); try screen.read { $0.contains("shell-42") } }
        try screen.type("sleep 100; echo after-$((1+1))\r")
        let sleeping = await eventually(within: 30) { processes(ownedBy: uid).contains { commandLine(of: $0) == ["sleep", "100"] } }
        #expect(sleeping, "sleep 100 runs as the agent")
        try screen.type("\u{03}")
        let gone = await eventually(within: 30) { !processes(ownedBy: uid).contains { commandLine(of: $0) == ["sleep", "100"] } }
        #expect(gone, "Ctrl-C (0x03) ended the foreground job")
        try await offPool { try screen.type("echo alive-$((2+3))\r"); try screen.read { $0.contains("alive-5") } }
        #expect(!screen.text.contains("after-2"), "the interrupted list did not go on")
        try screen.type("exit 7\r")
        let code = try await offPool { try screen.readToClose() }
        #expect(code == 4007, "the session ends when the shell exits; close code 4000 + its status")
        let session = try #require(screen.hello?["session_id"] as? String)
        let state = try await server.session(agent, session)
        #expect(state.string("state") == "exited" && state.int("exit_code") == 7, "\(state.text)")
    }

    @Test func theMasterSideNeverReachesTheAgent() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let uid = try await server.uid(of: agent)
        let reply = try await server.exec(agent, ["tty": true, "command": "sleep 0.3; echo \"masters=$(ls -l /proc/[0-9]*/fd/ 2>/dev/null | grep -c ptmx)\"; echo check-done; sleep 60"])
        let session = try #require(reply.string("session_id"))
        let socket = try await offPool { try WebSocketClient(server, server.sessionPath(agent, session, "/ws")) }
        let seen = try await offPool { try self.readEvents(socket) { $0.contains("check-done") } }
        #expect(seen.contains("masters=0\r\n"), "no process in the sandbox holds a pty master: \(seen)")
        // From the host: every process of the agent's uid, each descriptor. The slave is there; no master.
        let links = processes(ownedBy: uid).flatMap { pid in
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)") }
        }
        #expect(links.contains { $0.hasPrefix("/dev/pts/") }, "the agent's processes hold the slave: \(links)")
        #expect(!links.contains { $0.contains("ptmx") }, "no agent process holds the master: \(links)")
        let serverLinks = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd")) ?? []).compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(server.pid)/fd/\($0)") }
        #expect(serverLinks.contains { $0.contains("ptmx") }, "the server holds the master")
        socket.close()
        _ = try await server.killSession(agent, session, "KILL")
    }

    /// TIOCSTI (the kernel here allows it: `dev.tty.legacy_tiocsti = 1`) works only on the caller's own
    /// controlling terminal: a call without `tty` has none (bubblewrap's new session), so nothing to inject
    /// into; a terminal session's is its own pty, whose input only its own shell reads.
    @Test func commandsWithoutATerminalHaveNoControllingTTY() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let call = try await server.bash(agent, "if (exec 3</dev/tty) 2>/dev/null; then echo has-ctty; else echo no-ctty; fi; awk '{print \"tty_nr=\" $7}' /proc/$$/stat")
        #expect(call.string("stdout") == "no-ctty\ntty_nr=0\n", "\(call.text)")
        let session = try await server.startSession(agent, "if (exec 3</dev/tty) 2>/dev/null; then echo has-ctty; else echo no-ctty; fi")
        #expect(try await server.wait(agent, session).string("stdout") == "no-ctty\n")
    }

    @Test func terminalOutputIsKeptAndReplayedToALaterWatcher() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let reply = try await server.exec(agent, ["tty": true, "command": "printf 'one\\ntwo\\n'; sleep 60"])
        let session = try #require(reply.string("session_id"))
        let first = try await offPool { try WebSocketClient(server, server.sessionPath(agent, session, "/ws")) }
        _ = try await offPool { try self.readEvents(first) { $0.contains("two") } }
        first.close()
        let token = try await server.token(agent, ["session_id": session])
        let screen = try #require(try server.openTerminal(agent, token: token, session: session).screen)
        let replayed = try await offPool { try screen.read { $0.contains("one\r\ntwo\r\n") } }
        #expect(replayed.hasPrefix("one\r\n"), "a re-attach replays the buffered output first")
        #expect(screen.hello?["session_id"] as? String == session)
        _ = try await server.killSession(agent, session, "KILL")
    }

    @Test func ttyValidation() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        #expect(try await server.exec(agent, ["tty": true, "cols": 0]).status == 400)
        #expect(try await server.exec(agent, ["tty": true, "rows": 1001]).status == 400)
        #expect(try await server.exec(agent, ["command": "true", "cols": 80]).status == 400, "cols without tty")
        let missing = try await server.exec(agent, ["background": true])
        #expect(missing.status == 400 && missing.text.contains("command"), "only a terminal may leave out the command")
    }
}
