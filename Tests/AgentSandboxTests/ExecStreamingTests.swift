import Foundation
import Testing

/// Exec sessions watched live: SSE (background and foreground), WebSocket stdin/stdout, late attach and
/// `Last-Event-ID` resumption — all over real loopback connections.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct ExecStreamingTests {
    static let spaced = "for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 0.2; done"

    /// Output events arrive as produced (spread over the run, the first well before the end), exit last.
    private func expectLive(_ events: [SSEEvent]) {
        let output = events.filter { $0.event == "stdout" }
        #expect(events.text() == "1\n2\n3\n4\n5\n6\n7\n8\n")
        #expect(events.last?.event == "exit")
        #expect(events.last?.data.contains("\"exit_code\":0") == true)
        let ids = events.compactMap(\.id)
        #expect(ids == ids.sorted() && Set(ids).count == ids.count, "event ids grow")
        guard let first = output.first, let last = output.last, let exit = events.last else { return }
        #expect(exit.arrived.timeIntervalSince(first.arrived) > 0.5, "first event well before the end")
        #expect(last.arrived.timeIntervalSince(first.arrived) > 0.5, "events spaced in time")
    }

    @Test func backgroundSessionStreamsEventsAsTheyAreProduced() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        // The output starts once the watcher is attached (the test creates `go`), so a slow connect on a busy
        // machine cannot turn live events into a replayed burst.
        let command = "while [ ! -e go ]; do sleep 0.02; done; " + Self.spaced
        let reply = try await server.exec(agent, ["command": command, "background": true])
        #expect(reply.status == 200)
        #expect(reply.bool("running") == true, "background returns at once, while the command runs")
        let session = try #require(reply.string("session_id"))
        #expect((reply.int("pid") ?? 0) > 0)
        let client = try await offPool { try SSEClient(server, server.sessionPath(agent, session, "/stream")) }
        _ = FileManager.default.createFile(atPath: server.workspace(of: agent).appendingPathComponent("go").path, contents: nil)
        let events = try await offPool { try client.read() }
        expectLive(events)
    }

    @Test func foregroundExecWithEventStreamAcceptStreams() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        // As in the background case: output starts once the stream's headers reached the client (`go`), so a
        // slow start on a busy machine cannot turn live events into a replayed burst.
        let command = "while [ ! -e go ]; do sleep 0.02; done; " + Self.spaced + "; echo warn >&2"
        let body = try JSONSerialization.data(withJSONObject: ["command": command])
        let client = try await offPool { try SSEClient(server, "/v1/agents/\(agent)/exec", method: "POST", body: body) }
        #expect(client.status == 200)
        _ = FileManager.default.createFile(atPath: server.workspace(of: agent).appendingPathComponent("go").path, contents: nil)
        let events = try await offPool { try client.read() }
        expectLive(events.filter { $0.event != "stderr" })
        #expect(events.text("stderr") == "warn\n")
    }

    @Test func foregroundExecWithoutStreamingReturnsTheEnvelope() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.exec(newAgent(), ["command": "cat; echo err >&2; exit 3", "stdin": "in\n", "env": ["X": "1"]])
        #expect(reply.string("status") == "ok")
        #expect(reply.string("stdout") == "in\n")
        #expect(reply.string("stderr") == "err\n")
        #expect(reply.int("exit_code") == 3)
        #expect(reply.bool("success") == false)
        #expect(reply.json["duration_ms"] is NSNumber)
        let timedOut = try await server.exec(newAgent(), ["command": "echo a; sleep 30", "timeout": 1])
        #expect(timedOut.string("error_code") == "TIMEOUT")
        #expect(timedOut.int("exit_code") == 124)
    }

    @Test func catEchoesWebSocketStdinAndEOFEndsItWithExitZero() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let session = try await server.startSession(agent, "cat", ["keep_stdin_open": true])
        let messages = try await offPool { () -> [WebSocketClient.Message] in
            let socket = try WebSocketClient(server, server.sessionPath(agent, session, "/ws"))
            try socket.send(text: #"{"type":"stdin","data":"hello\n"}"#)
            var seen = try socket.receive { $0.json["data"] as? String == "hello\n" }
            try socket.send(binary: Array("raw bytes\n".utf8))
            seen += try socket.receive { ($0.json["data"] as? String)?.contains("raw bytes") == true }
            try socket.send(text: #"{"type":"stdin","data":"","eof":true}"#)
            seen += try socket.receive { if case .close = $0 { true } else { false } }
            return seen
        }
        let stdout = messages.filter { $0.json["type"] as? String == "stdout" }.compactMap { $0.json["data"] as? String }.joined()
        #expect(stdout == "hello\nraw bytes\n")
        let exit = try #require(messages.first { $0.json["type"] as? String == "exit" })
        #expect(exit.json["exit_code"] as? Int == 0)
        #expect(messages.last == .close(code: 4000, reason: "exit_code=0"))
        #expect(try await server.session(agent, session).string("state") == "exited")
    }

    @Test func aSessionWebSocketWithoutAValidKeyIs401WithTheEnvelopeAndAnUnknownSessionIsSaidInBand() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let session = try await server.startSession(agent, "sleep 30")
        let path = server.sessionPath(agent, session, "/ws")
        for key in ["", "ask_not-a-key"] {
            let refusal = try await offPool { try upgradeRefusal(server, path, apiKey: key) }
            #expect(refusal.status == 401, "key '\(key)': \(refusal.body)")
            #expect(refusal.code == "UNAUTHORIZED", "key '\(key)': \(refusal.body)")
        }
        // Past the head check, a session that cannot be streamed is reported in the socket, then closed (1008).
        let messages = try await offPool { () -> [WebSocketClient.Message] in
            let socket = try WebSocketClient(server, server.sessionPath(agent, "sess_0000000000000000", "/ws"))
            return try socket.receive { if case .close = $0 { true } else { false } }
        }
        #expect(messages.first?.json["error_code"] as? String == "SESSION_NOT_FOUND", "\(messages)")
        #expect(messages.last == .close(code: 1008, reason: "SESSION_NOT_FOUND"))
        _ = try await server.post(server.sessionPath(agent, session, "/kill"), json: [:])
    }

    /// The status, error code and body of a refused WebSocket upgrade.
    private func upgradeRefusal(_ server: TestServer, _ path: String, apiKey: String) throws -> (status: Int, code: String?, body: String) {
        let connection = try LoopbackConnection(port: server.port, timeout: 30)
        defer { connection.shutdown() }
        try connection.sendRequest("GET", path, apiKey: apiKey, headers: [
            "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString(),
        ])
        try connection.readResponseHead()
        var body: [UInt8] = []
        while let piece = try connection.readBody() { body += piece }
        let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        return (connection.status, json["error_code"] as? String, String(decoding: body, as: UTF8.self))
    }

    @Test func stdinOverHTTPWithEOFAndWaitReturnsUnconsumedOutput() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let session = try await server.startSession(agent, "cat; echo done", ["keep_stdin_open": true, "stdin": "first\n"])
        let write = try await server.post(server.sessionPath(agent, session, "/stdin"), json: ["data": "c2Vjb25kCg==", "encoding": "base64", "eof": true])
        #expect(write.status == 200)
        let waited = try await server.wait(agent, session)
        #expect(waited.int("exit_code") == 0)
        #expect(waited.string("stdout") == "first\nsecond\ndone\n")
        #expect(try await server.wait(agent, session).string("stdout") == "", "output is handed out once")
        let closed = try await server.post(server.sessionPath(agent, session, "/stdin"), json: ["data": "x"])
        #expect(closed.status == 409)
    }

    @Test func lateWatcherGetsTheBufferThenLiveOutputAndLastEventIDResumes() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let session = try await server.startSession(agent, "for i in $(seq 1 40); do echo line$i; sleep 0.03; done")
        try await Task.sleep(for: .milliseconds(400))
        let path = server.sessionPath(agent, session, "/stream")
        // First watcher attaches late: replay from line1, then it leaves after a few events.
        let first = try await offPool { () -> [SSEEvent] in
            let client = try SSEClient(server, path)
            defer { client.close() }
            return try client.read { $0.event == "stdout" && $0.data.contains("line15") }
        }
        #expect(first.text().hasPrefix("line1\n"))
        let lastID = try #require(first.last?.id)
        // It comes back with Last-Event-ID: the rest, nothing twice, nothing missing.
        let rest = try await offPool { try SSEClient(server, path, lastEventID: lastID).read() }
        let all = first.text() + rest.text()
        #expect(all == (1...40).map { "line\($0)\n" }.joined())
        #expect(rest.last?.event == "exit")
        #expect(Set(first.compactMap(\.id)).isDisjoint(with: rest.compactMap(\.id)))
        // A watcher after the end still gets everything, and the exit.
        let replay = try await offPool { try SSEClient(server, path).read() }
        #expect(replay.text() == all)
        #expect(replay.last?.event == "exit")
    }
}
