#if canImport(Glibc)
import Glibc
#endif
@testable import AgentSandbox
import AgentSandboxHTTP
import Foundation
import Logging
import Testing

/// A gateway over real nodes, without the shared database: two single-box servers (same API key) listed
/// by an in-memory directory, and the gateway's application running in this process. Covers what the
/// gateway itself does — placement, proxying of plain calls, SSE, WebSocket and archives both ways,
/// `{node}.{uuid}` ids, the nodes listing, and 503 NODE_UNAVAILABLE for the agents of a node that stopped
/// answering while the other node's agents keep working. (`ClusterTests` runs the whole cluster on PostgreSQL.)
@Suite(.serialized, .enabled(if: getuid() == 0))
struct GatewayProxyTests {
    static let setup = GatewaySetup()

    @Test func agentsArePlacedByRendezvousAndAnswerThroughTheGateway() async throws {
        let (gateway, nodes, _) = try await Self.setup.get()
        var placed: [Int: Int] = [:]
        for _ in 0..<12 {
            let reply = try await gateway.post("/v1/agents", json: [String: Any]())
            #expect(reply.status == 201)
            let agent = try #require(reply.string("agent_id"))
            let holder = try #require(nodes.indices.first { FileManager.default.fileExists(atPath: nodes[$0].workspace(of: agent).path) })
            #expect("n\(holder + 1)" == Rendezvous.rank(key: agent, nodes: ["n1", "n2"]).first)
            placed[holder, default: 0] += 1
            #expect(try await gateway.write(agent, "a.txt", "hi").string("status") == "ok")
            #expect(try await gateway.read("n\(holder + 1).\(agent)", "a.txt").string("content") == "hi")
        }
        #expect(placed.count == 2, "\(placed)")
        let listed = try await gateway.request("GET", "/v1/agents").json["agents"] as? [[String: Any]] ?? []
        #expect(listed.count >= 12)
    }

    @Test func sseWebSocketAndArchivesStreamThroughTheGateway() async throws {
        let (gateway, _, _) = try await Self.setup.get()
        let agent = try #require(try await gateway.post("/v1/agents", json: [String: Any]()).string("agent_id"))
        try await gateway.seedWorkspace(agent)
        let body = try JSONSerialization.data(withJSONObject: ["command": "for i in 1 2 3; do echo line$i; sleep 0.05; done"])
        let events = try await offPool { () throws -> [SSEEvent] in
            let client = try SSEClient(gateway, "/v1/agents/\(agent)/exec", method: "POST", body: body)
            defer { client.close() }
            return try client.read()
        }
        #expect(events.text().contains("line1\nline2\nline3"))
        let session = try await gateway.startSession(agent, "echo from-ws; sleep 0.3")
        let messages = try await offPool { () throws -> [WebSocketClient.Message] in
            let socket = try WebSocketClient(gateway, gateway.sessionPath(agent, session, "/ws"))
            defer { socket.close() }
            return try socket.receive { if case .close = $0 { true } else { false } }
        }
        #expect(messages.contains { if case .text(let text) = $0 { text.contains("from-ws") } else { false } }, "\(messages)")
        let archive = try await gateway.exportArchive(agent, format: "tar")
        #expect(archive.status == 200 && archive.body.count > 200_000)
        let copy = try #require(try await gateway.post("/v1/agents", json: [String: Any]()).string("agent_id"))
        #expect(try await gateway.importArchive(copy, archive.body).status == 200)
        #expect(try await gateway.bash(copy, "sha256sum src/lib/blob.bin | cut -c1-64").string("stdout")
                == (try await gateway.bash(agent, "sha256sum src/lib/blob.bin | cut -c1-64").string("stdout")))
    }

    @Test func nodesAreListedAndRequireAKey() async throws {
        let (gateway, _, _) = try await Self.setup.get()
        for path in ["/v1/nodes", "/clusters"] {
            let nodes = try #require(try await gateway.request("GET", path).json["nodes"] as? [[String: Any]])
            #expect(nodes.compactMap { $0["node_id"] as? String }.sorted() == ["n1", "n2"])
            #expect(nodes.allSatisfy { $0["state"] as? String == "up" && $0["load"] is NSNumber && $0["heartbeat_age_seconds"] is NSNumber })
            #expect(try await gateway.request("GET", path, headers: [:]).status == 401)
        }
        #expect(try await gateway.request("GET", "/v1/agents", headers: ["x-api-key": "wrong"]).status == 401)
    }

    /// The gateway keeps its connections to a node alive: twenty sequential calls reach the node over at
    /// most two new TCP connections (counted with `ss`: every socket to the node's port, TIME-WAIT
    /// included, so connections opened and closed per call would show as twenty).
    @Test func sequentialCallsReuseKeptAliveConnectionsToTheNode() async throws {
        let (gateway, nodes, _) = try await Self.setup.get()
        let agent = try #require(try await gateway.post("/v1/agents", json: [String: Any]()).string("agent_id"))
        let holder = try #require(nodes.indices.first { FileManager.default.fileExists(atPath: nodes[$0].workspace(of: agent).path) })
        #expect(try await gateway.write(agent, "kept.txt", "alive").string("status") == "ok")
        let before = try Self.sockets(toPort: nodes[holder].port)
        let answered = Self.setup.fastPath.answered
        for _ in 0..<20 {
            #expect(try await gateway.read(agent, "kept.txt").string("content") == "alive")
        }
        let opened = try Self.sockets(toPort: nodes[holder].port).subtracting(before)
        #expect(opened.count <= 2, "20 calls opened \(opened.count) connections to the node: \(opened.sorted())")
        #expect(Self.setup.fastPath.answered - answered == 20, "the reads went through the fast path")
    }

    /// Local `address:port` of every TCP socket (any state) whose peer port is `port`.
    static func sockets(toPort port: Int) throws -> Set<String> {
        let run = try runProcess("/usr/bin/ss", ["-Htan", "( dport = :\(port) )"], stderrToo: false)
        let lines = String(decoding: run.output, as: UTF8.self).split(separator: "\n")
        return Set(lines.compactMap { line in
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            return columns.count >= 4 ? String(columns[3]) : nil
        })
    }

    /// Plain calls are answered by the fast path (its counter moves with each), with the client's sane
    /// `x-request-id` echoed and a new one given otherwise (as `RequestIDMiddleware` does).
    @Test func plainCallsTakeTheFastPathAndCarryTheRequestID() async throws {
        let (gateway, _, _) = try await Self.setup.get()
        let agent = try #require(try await gateway.post("/v1/agents", json: [String: Any]()).string("agent_id"))
        #expect(try await gateway.write(agent, "id.txt", "one").string("status") == "ok")
        let answered = Self.setup.fastPath.answered
        let read = try JSONSerialization.data(withJSONObject: ["path": "id.txt"])
        let path = "/v1/agents/\(agent)/sandbox/file_read"
        let echoed = try await gateway.request("POST", path, body: read, headers: ["x-api-key": gateway.apiKey, "x-request-id": "fast-path-7"])
        #expect(echoed.string("content") == "one")
        #expect(echoed.headers["x-request-id"] == "fast-path-7")
        let refused = try await gateway.request("POST", path, body: read, headers: ["x-api-key": gateway.apiKey, "x-request-id": "has space"])
        let given = try await gateway.request("POST", path, body: read)
        for reply in [refused, given] {
            #expect(reply.string("content") == "one")
            let id = try #require(reply.headers["x-request-id"])
            #expect(!id.isEmpty && id != "has space")
        }
        #expect(refused.headers["x-request-id"] != given.headers["x-request-id"])
        #expect(Self.setup.fastPath.answered - answered == 3)
    }

    /// A missing or unknown key gets the routes' 401 envelope: the fast path does not take the call.
    @Test func aMissingOrWrongKeyGetsTheSame401() async throws {
        let (gateway, _, _) = try await Self.setup.get()
        let agent = try #require(try await gateway.post("/v1/agents", json: [String: Any]()).string("agent_id"))
        #expect(try await gateway.write(agent, "k.txt", "secret").string("status") == "ok")
        let counts = (Self.setup.fastPath.answered, Self.setup.fastPath.handedBack)
        let read = try JSONSerialization.data(withJSONObject: ["path": "k.txt"])
        for headers in [["content-type": "application/json"], ["x-api-key": "wrong", "content-type": "application/json"]] {
            let reply = try await gateway.request("POST", "/v1/agents/\(agent)/sandbox/file_read", body: read, headers: headers)
            #expect(reply.status == 401)
            #expect(reply.string("error_code") == "UNAUTHORIZED")
            #expect(reply.string("content") == nil)
            #expect(reply.headers["x-request-id"] != nil)
        }
        #expect(Self.setup.fastPath.answered == counts.0 && Self.setup.fastPath.handedBack == counts.1)
    }

    /// A body over the fast path's 64 KiB and a chunked upload go through the routes, and arrive whole.
    @Test func largeAndChunkedBodiesGoThroughTheRoutes() async throws {
        let (gateway, _, _) = try await Self.setup.get()
        let agent = try #require(try await gateway.post("/v1/agents", json: [String: Any]()).string("agent_id"))
        #expect(try await gateway.write(agent, "warm.txt", "x").string("status") == "ok")
        let answered = Self.setup.fastPath.answered
        let big = String(repeating: "0123456789abcdef", count: 5000)  // 80 000 bytes
        #expect(try await gateway.write(agent, "big.txt", big).string("status") == "ok")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-chunked-\(agent).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try JSONSerialization.data(withJSONObject: ["path": "chunked.txt", "content": "sent in chunks"]).write(to: file)
        let (url, key) = (gateway.baseURL + "/v1/agents/\(agent)/sandbox/file_write", gateway.apiKey)
        let upload = try await offPool {
            try runProcess("/usr/bin/curl", ["-s", "-H", "x-api-key: \(key)", "-H", "Content-Type: application/json", "-H", "Transfer-Encoding: chunked",
                                             "--data-binary", "@\(file.path)", url], stderrToo: false)
        }
        #expect(String(decoding: upload.output, as: UTF8.self).contains("\"status\":\"ok\""), "\(String(decoding: upload.output, as: UTF8.self))")
        #expect(Self.setup.fastPath.answered == answered, "neither upload took the fast path")
        #expect(try await gateway.bash(agent, "wc -c < big.txt; cat chunked.txt").string("stdout") == "80000\nsent in chunks")
    }

    /// A client that pipelines gets its answers in order when fast and routed calls alternate: a read
    /// (fast path), one with an unknown key (the routes' 401), another read — sent in one write.
    @Test func pipelinedRequestsAreAnsweredInOrderAcrossBothPaths() async throws {
        let (gateway, _, _) = try await Self.setup.get()
        let agent = try #require(try await gateway.post("/v1/agents", json: [String: Any]()).string("agent_id"))
        #expect(try await gateway.write(agent, "p.txt", "piped").string("status") == "ok")
        let answered = Self.setup.fastPath.answered
        let body = #"{"path":"p.txt"}"#
        let requests = [("first", gateway.apiKey), ("second", "wrong"), ("third", gateway.apiKey)].map { id, key in
            "POST /v1/agents/\(agent)/sandbox/file_read HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: \(key)\r\nx-request-id: \(id)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }.joined()
        let port = gateway.port
        let answers = try await offPool { () throws -> [(status: Int, id: String, body: String)] in
            let connection = try LoopbackConnection(port: port)
            try connection.send(Array(requests.utf8))
            return try Self.readResponses(connection, count: 3)
        }
        #expect(answers.map(\.id) == ["first", "second", "third"])
        #expect(answers.map(\.status) == [200, 401, 200])
        #expect(answers[0].body.contains("piped") && answers[2].body.contains("piped") && !answers[1].body.contains("piped"))
        // The first went the fast way; the third too, or — when it arrived while the second's answer was
        // still pending — the routes' way after it.
        #expect((1...2).contains(Self.setup.fastPath.answered - answered))
    }

    /// `count` whole responses of declared length from `connection`: status, `x-request-id`, body.
    static func readResponses(_ connection: LoopbackConnection, count: Int) throws -> [(status: Int, id: String, body: String)] {
        var bytes: [UInt8] = []
        var responses: [(status: Int, id: String, body: String)] = []
        while responses.count < count {
            bytes += try connection.readRaw(1)
            guard let headEnd = (0..<max(0, bytes.count - 3)).first(where: { bytes[$0..<$0 + 4].elementsEqual([13, 10, 13, 10]) }) else { continue }
            let lines = String(decoding: bytes[..<headEnd], as: UTF8.self).split(separator: "\r\n")
            func field(_ name: String) -> String? {
                lines.first { $0.lowercased().hasPrefix(name + ":") }.map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
            }
            let length = field("content-length").flatMap { Int($0) } ?? 0
            guard bytes.count >= headEnd + 4 + length else { continue }
            let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
            responses.append((status, field("x-request-id") ?? "", String(decoding: bytes[(headEnd + 4)..<(headEnd + 4 + length)], as: UTF8.self)))
            bytes.removeFirst(headEnd + 4 + length)
        }
        return responses
    }

    /// Last: it stops a node.
    @Test func aStoppedNodeFailsOnlyItsOwnAgentsWithNodeUnavailable() async throws {
        let (gateway, nodes, directory) = try await Self.setup.get()
        var byNode: [Int: String] = [:]
        while byNode.count < 2 {
            let agent = try #require(try await gateway.post("/v1/agents", json: [String: Any]()).string("agent_id"))
            let holder = try #require(nodes.indices.first { FileManager.default.fileExists(atPath: nodes[$0].workspace(of: agent).path) })
            if byNode[holder] == nil, try await gateway.write(agent, "f.txt", "x").string("status") == "ok" { byNode[holder] = agent }
        }
        nodes[1].stop(signal: SIGKILL)
        let handedBack = Self.setup.fastPath.handedBack
        let failed = try await gateway.read(byNode[1]!, "f.txt")
        // The fast path took the call (owner cached), could not reach the node, and handed it to the routes.
        #expect(Self.setup.fastPath.handedBack == handedBack + 1)
        #expect(failed.status == 503)
        #expect(failed.string("error_code") == "NODE_UNAVAILABLE")
        #expect(failed.string("error")?.contains("'n2'") == true)
        #expect(failed.headers["retry-after"] != nil)
        #expect(try await gateway.read(byNode[0]!, "f.txt").string("content") == "x")
        // Once its heartbeat is old, the listing says so and new agents go to the other node.
        directory.stale.withLock { _ = $0.insert("n2") }
        let listed = try #require(try await gateway.request("GET", "/v1/nodes").json["nodes"] as? [[String: Any]])
        #expect(listed.first { $0["node_id"] as? String == "n2" }?["state"] as? String == "unavailable")
        for _ in 0..<4 {
            let agent = try #require(try await gateway.post("/v1/agents", json: [String: Any]()).string("agent_id"))
            #expect(FileManager.default.fileExists(atPath: nodes[0].workspace(of: agent).path))
        }
    }
}

/// Two single-box nodes and an in-process gateway over a `MemoryDirectory`, started once.
actor GatewaySetup {
    private var started: (TestServer, [TestServer], MemoryDirectory)?
    /// What the gateway's fast path did (the gateway runs in this process).
    nonisolated let fastPath = GatewayFastPathCounters()

    func get() async throws -> (TestServer, [TestServer], MemoryDirectory) {
        if let started { return started }
        let nodes = [TestServer(), TestServer()]
        for node in nodes.dropFirst() { node.apiKey = nodes[0].apiKey }
        for node in nodes { try await node.start() }
        let directory = MemoryDirectory(nodes: nodes.enumerated().map { index, node in
            ClusterNode(id: "n\(index + 1)", advertiseURL: node.baseURL, maxAgents: 100, freeDiskBytes: 1 << 30)
        }, beating: true)
        let catalog = AgentCatalog(directory: directory)
        let keys = APIKeyAuthority(hashes: [SHA256Hasher.hex(nodes[0].apiKey)])
        var settings = GatewayServer.Settings()
        settings.port = 0
        settings.fastPathCounters = fastPath
        let port = AsyncStream<Int>.makeStream()
        Task {
            try await GatewayServer.run(catalog: catalog, keys: keys, settings: settings, logger: Logger(label: "test-gateway")) { bound in
                port.continuation.yield(bound)
            }
        }
        var iterator = port.stream.makeAsyncIterator()
        let gateway = TestServer(attachedTo: try #require(await iterator.next()), apiKey: nodes[0].apiKey)
        started = (gateway, nodes, directory)
        return started!
    }
}
