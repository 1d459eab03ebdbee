import Foundation
import Testing

/// Previews over real HTTP: `ANY /v1/agents/{id}/ports/{port}/…`, `/p/{token}/…` links and
/// `{port}-{agent}.{domain}` hosts reach a small app (`PreviewApp`) that an `isolated` agent runs in its
/// own network namespace — bound to 127.0.0.1 or 0.0.0.0 there — streamed both ways, WebSockets
/// relayed. The server under test stays on the host's loopback; nothing leaves this machine.
@Suite(.serialized, .enabled(if: isRoot, "needs root for namespaces, veths and nftables"))
struct PreviewTests {
    static let domain = "preview.test"
    // In a test-made namespace (`NetworkLab`): the pool's addresses and the agents' veths stay off the host.
    static let shared = SharedServer(arguments: ["--network-pool", "10.202.0.0/22", "--preview-domain", domain], labOffset: 4)

    /// Starts the app as a background session of `agent` and waits until `GET …/ports` lists it.
    static func startApp(_ server: TestServer, _ agent: String, address: String = "127.0.0.1", port: Int = 3000, name: String) async throws {
        _ = try await server.call("file_write", agent: agent, ["path": "app.py", "content": PreviewApp.source])
        _ = try await server.startSession(agent, "exec python3 app.py \(address) \(port) \(name)")
        for _ in 0..<200 {
            let ports = try await server.request("GET", "/v1/agents/\(agent)/ports")
            if (ports.json["ports"] as? [[String: Any]])?.contains(where: { $0["port"] as? Int == port }) == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("the app of \(agent) never listened on \(port)")
    }

    static func path(_ agent: String, _ port: Int, _ rest: String) -> String { "/v1/agents/\(agent)/ports/\(port)\(rest)" }

    @Test func reachesAppsOnTheNamespacesLoopbackAndOnAllAddressesAndListsTheirPorts() async throws {
        let server = try await Self.shared.get()
        let agent = newAgent()
        try await Self.startApp(server, agent, address: "127.0.0.1", port: 3000, name: "loopback")
        try await Self.startApp(server, agent, address: "0.0.0.0", port: 3001, name: "everywhere")
        #expect(try await server.request("GET", Self.path(agent, 3000, "/who")).text == "loopback")
        #expect(try await server.request("GET", Self.path(agent, 3001, "/who")).text == "everywhere")
        let ports = try await server.request("GET", "/v1/agents/\(agent)/ports")
        let listed = (ports.json["ports"] as? [[String: Any]] ?? []).map { "\($0["address"] ?? ""):\($0["port"] ?? "")" }
        #expect(listed.contains("127.0.0.1:3000") && listed.contains("0.0.0.0:3001"), "\(ports.text)")
        // What the app is told: its own Host, where the client came from, and never this server's key.
        let headers = try await server.request("GET", Self.path(agent, 3000, "/headers?x=1"), headers: ["x-api-key": server.apiKey, "Connection": "keep-alive, X-Drop", "X-Drop": "1", "X-Keep": "2"]).json
        #expect(headers["path"] as? String == "/headers?x=1")
        #expect(headers["host"] as? String == "localhost:3000")
        #expect(headers["x-forwarded-prefix"] as? String == "/v1/agents/\(agent)/ports/3000")
        #expect(headers["x-forwarded-proto"] as? String == "http")
        #expect(headers["x-forwarded-host"] != nil)
        #expect(headers["x-api-key"] == nil, "the API key never reaches the agent")
        #expect(headers["x-drop"] == nil, "a field named by Connection is hop-by-hop")
        #expect(headers["x-keep"] as? String == "2")
    }

    @Test func streamsALargeDownloadAndALargeUploadWithoutHoldingThem() async throws {
        let server = try await Self.shared.get()
        let agent = newAgent()
        try await Self.startApp(server, agent, name: "big")
        let size = 256 << 20
        let before = server.residentBytes()
        let url = server.baseURL + Self.path(agent, 3000, "/big?n=\(size)")
        let download = try ArchiveSupport.shell("curl -sS -H 'x-api-key: \(server.apiKey)' '\(url)' | sha256sum | cut -c1-64").output
        let expected = try ArchiveSupport.shell("python3 -c 'import sys; b=bytes(range(256))*256; [sys.stdout.buffer.write(b) for _ in range(\(size / 65536))]' | sha256sum | cut -c1-64").output
        #expect(download == expected && expected.count == 65, "the 256 MiB body arrived whole: \(download)")
        let grown = server.residentBytes() - before
        #expect(grown < 128 << 20, "a 256 MiB response is streamed, not held: the server grew by \(grown >> 20) MiB")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("preview-upload-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("upload.bin").path
        _ = try ArchiveSupport.shell("head -c \(96 << 20) /dev/urandom > \(file)")
        let digest = try ArchiveSupport.shell("sha256sum \(file) | cut -c1-64").output.trimmingCharacters(in: .whitespacesAndNewlines)
        for framing in ["", "-H 'Transfer-Encoding: chunked'"] {
            let reply = try ArchiveSupport.shell("curl -sS -H 'x-api-key: \(server.apiKey)' \(framing) --data-binary @\(file) '\(server.baseURL + Self.path(agent, 3000, "/upload"))'").output
            let json = (try? JSONSerialization.jsonObject(with: Data(reply.utf8))) as? [String: Any]
            #expect(json?["bytes"] as? Int == 96 << 20 && json?["sha256"] as? String == digest, "upload \(framing): \(reply)")
        }
    }

    @Test func serverSentEventsPassAsTheyAreSent() async throws {
        let server = try await Self.shared.get()
        let agent = newAgent()
        try await Self.startApp(server, agent, name: "sse")
        let connection = try LoopbackConnection(port: server.port, host: server.connectHost, timeout: 60)
        try connection.sendRequest("GET", Self.path(agent, 3000, "/sse"), apiKey: server.apiKey)
        try await offPool { try connection.readResponseHead() }
        #expect(connection.status == 200)
        #expect(connection.headers["content-type"] == "text/event-stream")
        var seen = ""
        while !seen.contains("data: one") {
            guard let piece = try await offPool({ try connection.readBody() }) else { break }
            seen += String(decoding: piece, as: UTF8.self)
        }
        #expect(seen.contains("data: one") && !seen.contains("data: two"), "the first event came before the app sent the second: \(seen)")
        _ = try await server.call("file_write", agent: agent, ["path": "go", "content": ""])
        while let piece = try await offPool({ try connection.readBody() }) { seen += String(decoding: piece, as: UTF8.self) }
        #expect(seen.hasSuffix("data: two\n\n"), "\(seen)")
    }

    @Test func relaysAWebSocketEchoAndTheAppsClose() async throws {
        let server = try await Self.shared.get()
        let agent = newAgent()
        try await Self.startApp(server, agent, name: "ws")
        for (path, key) in [(Self.path(agent, 3000, "/ws"), server.apiKey), (try await Self.link(server, agent, 3000) + "ws", "")] {
            let socket = try await offPool { try WebSocketClient(server, path, apiKey: key) }
            let big = (0..<200_000).map { UInt8($0 % 251) }
            let replies = try await offPool { () -> [WebSocketClient.Message] in
                try socket.send(text: "hello")
                let first = try socket.receive()
                try socket.send(binary: big)
                let second = try socket.receive()
                try socket.send(text: "bye")
                return [first, second, try socket.receive()]
            }
            #expect(replies[0] == .text("echo:hello"), "\(path)")
            #expect(replies[1] == .binary(Array("echo:".utf8) + big), "\(path)")
            #expect(replies[2] == .close(code: 4001, reason: "app says bye"), "\(path)")
            socket.close()
        }
    }

    /// An app that greets in the same write as its 101 (one TCP segment): the greeting reaches the
    /// client before the echo of what the client sends next. (The proxy's HTTP decoder used to drop
    /// bytes that came with the 101: the gateway lost a session's replayed output this way.)
    @Test func aFrameSentWithTheAppsHandshakeIsRelayed() async throws {
        let server = try await Self.shared.get()
        let agent = newAgent()
        try await Self.startApp(server, agent, name: "greet")
        let socket = try await offPool { try WebSocketClient(server, Self.path(agent, 3000, "/ws-greet"), apiKey: server.apiKey) }
        defer { socket.close() }
        let replies = try await offPool { () -> [WebSocketClient.Message] in
            try socket.send(text: "hello")
            try socket.send(text: "bye")
            return try socket.receive { if case .close = $0 { true } else { false } }
        }
        #expect(replies == [.text("greeting"), .text("echo:hello"), .close(code: 4001, reason: "app says bye")], "\(replies)")
    }

    /// A new link's path (`/p/{token}/`).
    static func link(_ server: TestServer, _ agent: String, _ port: Int, expiresIn: Int? = nil) async throws -> String {
        let reply = try await server.post(Self.path(agent, port, "/link"), json: expiresIn.map { ["expires_in": $0] } ?? [:])
        guard reply.status == 201, let url = reply.string("url"), let range = url.range(of: "/p/") else { throw TestFailure("link: \(reply.status) \(reply.text)") }
        return String(url[range.lowerBound...])
    }

    @Test func aLinkWorksWithoutTheKeyExpiresAndIsRevoked() async throws {
        let server = try await Self.shared.get()
        let agent = newAgent()
        try await Self.startApp(server, agent, name: "linked")
        let created = try await server.post(Self.path(agent, 3000, "/link"), json: [:])
        #expect(created.status == 201)
        let token = try #require(created.string("token"))
        #expect(token.count == 48 && created.string("expires_at") != nil)
        #expect(created.string("host_url") == "http://\(token).\(Self.domain)/")
        #expect(try await server.request("GET", "/p/\(token)/who", headers: [:]).text == "linked")
        let bare = try ArchiveSupport.shell("curl -s -o /dev/null -w '%{http_code} %{redirect_url}' \(server.baseURL)/p/\(token)").output
        #expect(bare == "308 \(server.baseURL)/p/\(token)/", "the bare link redirects to its root: \(bare)")
        let listed = try await server.request("GET", "/v1/agents/\(agent)/ports").json["links"] as? [[String: Any]]
        #expect(listed?.contains { $0["id"] as? String == created.string("id") } == true)
        #expect(try await server.request("DELETE", Self.path(agent, 3000, "/link/\(token)")).status == 200)
        let revoked = try await server.request("GET", "/p/\(token)/who", headers: [:])
        #expect(revoked.status == 404 && revoked.string("error_code") == "NOT_FOUND")
        #expect(try await server.request("DELETE", Self.path(agent, 3000, "/link/\(token)")).status == 404, "revoked once")
        let short = try await Self.link(server, agent, 3000, expiresIn: 1)
        #expect(try await server.request("GET", short + "who", headers: [:]).text == "linked")
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await server.request("GET", short + "who", headers: [:]).status == 404, "expired")
        #expect(try await server.request("GET", "/p/\(String(repeating: "0", count: 48))/", headers: [:]).status == 404)
    }

    @Test func twoAgentsOnPort3000EachGetTheirOwnAndNeverAnothers() async throws {
        let server = try await Self.shared.get()
        let (first, second) = (newAgent(), newAgent())
        try await Self.startApp(server, first, name: "first")
        try await Self.startApp(server, second, name: "second")
        try await Self.startApp(server, second, port: 3002, name: "second-only")
        #expect(try await server.request("GET", Self.path(first, 3000, "/who")).text == "first")
        #expect(try await server.request("GET", Self.path(second, 3000, "/who")).text == "second")
        let foreign = try await server.request("GET", Self.path(first, 3002, "/who"))
        #expect(foreign.status == 502 && foreign.string("error_code") == "UPSTREAM_UNAVAILABLE", "another agent's port: \(foreign.text)")
    }

    @Test func errorsNameTheirCause() async throws {
        let server = try await Self.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "true")
        let nothing = try await server.request("GET", Self.path(agent, 3999, "/"))
        #expect(nothing.status == 502 && nothing.string("error_code") == "UPSTREAM_UNAVAILABLE", "\(nothing.text)")
        #expect(try await server.request("GET", Self.path(newAgent(), 3000, "/")).status == 404)
        for port in ["0", "65536", "abc"] {
            let reply = try await server.request("GET", "/v1/agents/\(agent)/ports/\(port)/")
            #expect(reply.status == 400 && reply.string("error")?.contains("`port`") == true, "\(port): \(reply.text)")
        }
        #expect(try await server.request("GET", Self.path(agent, 3000, "/"), headers: [:]).status == 401)
        let host = newAgent()
        #expect(try await server.post("/v1/agents", json: ["agent_id": host, "network": "host"]).status == 201)
        let refused = try await server.request("GET", Self.path(host, server.port, "/healthz"))
        #expect(refused.status == 409 && refused.string("error_code") == "PREVIEW_UNAVAILABLE", "a host agent's port is the host's own: \(refused.text)")
    }

    @Test func previewDomainHostsServeTheAppAtTheRoot() async throws {
        let server = try await Self.shared.get()
        let agent = newAgent()
        try await Self.startApp(server, agent, name: "rooted")
        let token = try await Self.link(server, agent, 3000).split(separator: "/")[1]
        for (host, key) in [("3000-\(agent).\(Self.domain)", server.apiKey), ("\(token).\(Self.domain)", "")] {
            let connection = try LoopbackConnection(port: server.port, host: server.connectHost)
            let head = "GET /headers HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n" + (key.isEmpty ? "" : "x-api-key: \(key)\r\n") + "\r\n"
            try connection.send(Array(head.utf8))
            let body = try await offPool { () -> String in
                try connection.readResponseHead()
                var text = ""
                while let piece = try connection.readBody() { text += String(decoding: piece, as: UTF8.self) }
                return text
            }
            #expect(connection.status == 200 && body.contains("\"path\": \"/headers\""), "\(host): \(body)")
        }
        let connection = try LoopbackConnection(port: server.port, host: server.connectHost)
        try connection.send(Array("GET /who HTTP/1.1\r\nHost: 3000-\(agent).\(Self.domain)\r\nConnection: close\r\n\r\n".utf8))
        try await offPool { try connection.readResponseHead() }
        #expect(connection.status == 401, "the agent's host form needs the key")
    }
}
