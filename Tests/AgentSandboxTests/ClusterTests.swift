#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// A cluster end to end: real PostgreSQL, three nodes and two gateways on loopback. Placement,
/// proxying of every kind of route through either gateway, node failure and recovery, gateway restart,
/// and racing creates. Heavy (five servers and a database): `scripts/test` runs it on its own.
@Suite(.serialized, .enabled(if: getuid() == 0 && TestPostgres.shouldRun))
struct ClusterTests {
    static let cluster = SharedCluster()

    @Test func nodesAreListedWithStateHeartbeatAgentsAndLoad() async throws {
        let cluster = try await Self.cluster.get()
        for path in ["/v1/nodes", "/clusters"] {
            let reply = try await cluster.gateways[1].request("GET", path)
            #expect(reply.status == 200)
            let nodes = try #require(reply.json["nodes"] as? [[String: Any]])
            #expect(Set(nodes.compactMap { $0["node_id"] as? String }).isSuperset(of: ["n1", "n2", "n3"]))
            for node in nodes {
                #expect(node["state"] as? String == "up")
                #expect(((node["heartbeat_age_seconds"] as? NSNumber)?.doubleValue ?? 99) < TestCluster.nodeTimeout)
                #expect(node["agents"] is NSNumber && node["load"] is NSNumber && node["max_agents"] is NSNumber)
            }
        }
        #expect(try await cluster.gateways[0].request("GET", "/v1/nodes", headers: [:]).status == 401)
        #expect(try await cluster.gateways[0].request("GET", "/clusters", headers: [:]).status == 401)
    }

    @Test func thirtyAgentsSpreadOverTheNodesAndAnswerThroughEitherGateway() async throws {
        let cluster = try await Self.cluster.get()
        var perNode: [Int: Int] = [:]
        for index in 0..<30 {
            let reply = try await cluster.gateways[index % 2].post("/v1/agents", json: [String: Any]())
            #expect(reply.status == 201)
            let agent = try #require(reply.string("agent_id"))
            #expect(UUID(uuidString: agent) != nil)
            let holder = try #require(cluster.nodeHolding(agent))
            perNode[holder, default: 0] += 1
            let read = try await cluster.gateways[(index + 1) % 2].request("GET", "/v1/agents/\(agent)")
            #expect(read.status == 200 && read.string("agent_id") == agent)
        }
        // Rendezvous hashing over three nodes: each gets some (all 30 on two nodes has odds near 1e-5).
        #expect(perNode.count == 3, "\(perNode)")
        let listed = try await cluster.gateways[0].request("GET", "/v1/agents").json["agents"] as? [[String: Any]] ?? []
        #expect(listed.count >= 30)
    }

    @Test func toolsExecAndArchivesPassThroughEitherGatewayWithNodePrefixedIds() async throws {
        let cluster = try await Self.cluster.get()
        let (g1, g2) = (cluster.gateways[0], cluster.gateways[1])
        let agent = try #require(try await g1.post("/v1/agents", json: [String: Any]()).string("agent_id"))
        let node = "n\(try #require(cluster.nodeHolding(agent)) + 1)"
        // The node prefix is a hint: a wrong one still reaches the owner.
        for id in [agent, "\(node).\(agent)", "n9.\(agent)"] {
            #expect(try await g2.write(id, "notes/a.txt", "hello \(id)\n").string("status") == "ok")
            let read = try await g1.read(id, "notes/a.txt")
            #expect(read.string("content")?.contains("hello \(id)") == true)
        }
        let bash = try await g2.bash(agent, "echo $HOME; id -u")
        #expect(bash.string("stdout")?.contains(agent) == true)
        // Exec as SSE through the gateway.
        let body = try JSONSerialization.data(withJSONObject: ["command": "for i in 1 2 3; do echo line$i; done"])
        let events = try await offPool { () throws -> [SSEEvent] in
            let client = try SSEClient(g1, "/v1/agents/\(agent)/exec", method: "POST", body: body)
            defer { client.close() }
            return try client.read()
        }
        #expect(events.text().contains("line1\nline2\nline3"))
        // A background session's output over WebSocket, through the other gateway.
        let session = try await g2.startSession(agent, "echo from-ws; sleep 0.2")
        let messages = try await offPool { () throws -> [WebSocketClient.Message] in
            let socket = try WebSocketClient(g2, g2.sessionPath(agent, session, "/ws"))
            defer { socket.close() }
            return try socket.receive { if case .close = $0 { return true } else { return false } }
        }
        #expect(messages.contains { if case .text(let text) = $0 { text.contains("from-ws") } else { false } })
        // Archive out through one gateway, into a new agent through the other.
        let archive = try await g1.exportArchive(agent, format: "tar")
        #expect(archive.status == 200)
        let copy = try #require(try await g2.post("/v1/agents", json: [String: Any]()).string("agent_id"))
        #expect(try await g2.importArchive(copy, archive.body).status == 200)
        #expect(try await g1.read(copy, "notes/a.txt").string("content")?.contains("hello") == true)
    }

    @Test func theSameCreateRacedThroughBothGatewaysHasExactlyOneWinner() async throws {
        let cluster = try await Self.cluster.get()
        for _ in 0..<5 {
            let agent = UUID().uuidString.lowercased()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for gateway in cluster.gateways + cluster.gateways {
                    group.addTask { try await gateway.post("/v1/agents", json: ["agent_id": agent]).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 201 }.count == 1, "\(statuses)")
            #expect(statuses.allSatisfy { $0 == 201 || $0 == 200 }, "\(statuses)")
            #expect(cluster.nodes.indices.filter { FileManager.default.fileExists(atPath: cluster.nodes[$0].workspace(of: agent).path) }.count == 1)
        }
    }

    @Test func aGatewayRestartLosesNothing() async throws {
        let cluster = try await Self.cluster.get()
        let gateway = cluster.gateways[0]
        let agent = try #require(try await gateway.post("/v1/agents", json: [String: Any]()).string("agent_id"))
        #expect(try await gateway.write(agent, "kept.txt", "still here").string("status") == "ok")
        try await gateway.restart(signal: SIGKILL)
        #expect(try await gateway.read(agent, "kept.txt").string("content") == "still here")
        #expect(try await gateway.request("GET", "/v1/nodes").status == 200)
    }

    /// SIGTERM stops a gateway gracefully: a call under way (through the fast path, its agent's owner
    /// being cached) is answered in full before the gateway exits, with status 0.
    @Test func aGatewayStoppedGracefullyAnswersTheCallUnderWay() async throws {
        let cluster = try await Self.cluster.get()
        let gateway = cluster.gateways[1]
        let agent = try #require(try await gateway.post("/v1/agents", json: [String: Any]()).string("agent_id"))
        #expect(try await gateway.write(agent, "warm.txt", "owner cached").string("status") == "ok")
        async let slow = gateway.bash(agent, "sleep 3; echo finished")
        try await Task.sleep(for: .milliseconds(1200))  // the call is under way (well before its 3 s end)
        let status = await gateway.stopGracefully()
        let reply = try await slow
        #expect(reply.status == 200 && reply.string("stdout") == "finished\n", "\(reply.status) \(reply.text)")
        #expect(status == 0)
        try await gateway.start()
        #expect(try await gateway.read(agent, "warm.txt").string("content") == "owner cached")
    }

    /// Gateways and nodes hold the key hashes in memory and re-read them from PostgreSQL every 0.25 s
    /// (`APIKeyAuthority.runRefreshLoop`): a key revoked in the shared store is refused everywhere within
    /// that bound plus one store round trip. Checked one second after the revocation (slack for a loaded
    /// machine), at both gateways and at the agent's node directly.
    @Test func aRevokedKeyIsRefusedByEveryGatewayAndNodeWithinASecond() async throws {
        let cluster = try await Self.cluster.get()
        let created = try runCLI(["key", "create", "--cluster", cluster.databaseURL, "--name", "cluster-robot"])
        let key = try #require(created.output.split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) })
        #expect(created.status == 0 && key.hasPrefix("ask_"), "\(created.output)")
        let agent = try #require(try await cluster.gateways[0].post("/v1/agents", json: [String: Any]()).string("agent_id"))
        let servers = cluster.gateways + [cluster.nodes[try #require(cluster.nodeHolding(agent))]]
        for server in servers {
            var status = 0
            for _ in 0..<30 {
                status = try await server.request("GET", "/v1/agents/\(agent)", headers: ["x-api-key": key]).status
                if status == 200 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(status == 200, "the new key works at \(server.baseURL)")
        }
        let listed = try runCLI(["key", "list", "--cluster", cluster.databaseURL])
        let row = try #require(listed.output.split(separator: "\n").first { $0.hasSuffix("\tcluster-robot") })
        #expect(try runCLI(["key", "revoke", String(row.split(separator: "\t")[0]), "--cluster", cluster.databaseURL]).status == 0)
        try await Task.sleep(for: .seconds(1))
        for server in servers {
            let refused = try await server.request("GET", "/v1/agents/\(agent)", headers: ["x-api-key": key])
            #expect(refused.status == 401, "\(server.baseURL) refuses the revoked key")
            #expect(try await server.request("GET", "/v1/agents/\(agent)").status == 200, "other keys still work at \(server.baseURL)")
        }
    }

    /// Keys are re-read when PostgreSQL announces a change (`LISTEN`/`NOTIFY`), not polled: each server
    /// keeps a listening connection, and five idle servers read `api_keys` a handful of times in 6 s
    /// (their 10 s backstop), where polling 4×/s read it about 120 times. (The revocation test above
    /// passing within 1 s is the announcement at work: the backstop alone takes 10 s.)
    @Test func serversListenForKeyChangesInsteadOfPollingTheTable() async throws {
        let cluster = try await Self.cluster.get()
        let postgres = try await TestPostgres.shared()
        let listening = "SELECT COUNT(*) FROM pg_stat_activity WHERE query = 'LISTEN \"agent_sandbox_api_keys\";'"
        #expect(Int(try postgres.psql(listening, database: cluster.databaseURL)) ?? 0 >= cluster.nodes.count + cluster.gateways.count)
        let reads = "SELECT seq_scan + COALESCE(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'api_keys'"
        let before = Int(try postgres.psql(reads, database: cluster.databaseURL)) ?? 0
        try await Task.sleep(for: .seconds(6))
        let after = Int(try postgres.psql(reads, database: cluster.databaseURL)) ?? 0
        #expect(after - before < 40, "api_keys was read \(after - before) times in 6 s")
    }

    /// `--preview-domain` at a gateway: a host under it is an agent's app, sent (before the gateway's
    /// own key check) to the node of the agent or link, which answers as a single box does. Cluster
    /// agents here run on the host's network, so the owner refuses the preview with its sentence naming
    /// the agent; an unknown link is the node's 404, not the gateway's 401.
    @Test func previewHostsGoToTheNodeOfTheirAgent() async throws {
        let cluster = try await Self.cluster.get()
        func get(_ gateway: TestServer, host: String, key: String?) async throws -> (Int, String) {
            let connection = try LoopbackConnection(port: gateway.port)
            let head = "GET /who HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n" + (key.map { "x-api-key: \($0)\r\n" } ?? "") + "\r\n"
            try connection.send(Array(head.utf8))
            return try await offPool {
                try connection.readResponseHead()
                var text = ""
                while let piece = try connection.readBody() { text += String(decoding: piece, as: UTF8.self) }
                return (connection.status, text)
            }
        }
        var seen = Set<Int>()
        while seen.count < 3 {
            let agent = try #require(try await cluster.gateways[0].post("/v1/agents", json: [String: Any]()).string("agent_id"))
            seen.insert(try #require(cluster.nodeHolding(agent)))
            for gateway in cluster.gateways {
                let (status, body) = try await get(gateway, host: "8000-\(agent).\(TestCluster.previewDomain)", key: gateway.apiKey)
                #expect(status == 409 && body.contains("PREVIEW_UNAVAILABLE") && body.contains(agent), "\(status) \(body)")
            }
        }
        let unknown = String(repeating: "ab", count: 24)
        for gateway in cluster.gateways {
            let (status, body) = try await get(gateway, host: "\(unknown).\(TestCluster.previewDomain)", key: nil)
            #expect(status == 404, "\(status) \(body)")
        }
    }

    @Test func aMovedAgentKeepsItsFilesModesSettingsAndShares() async throws {
        let cluster = try await Self.cluster.get()
        let (g1, g2) = (cluster.gateways[0], cluster.gateways[1])
        let agent = try #require(try await g1.post("/v1/agents", json: ["limits": ["max_concurrent_calls": 7]]).string("agent_id"))
        try await g1.seedWorkspace(agent)
        #expect(try await g1.request("POST", "/v1/agents/\(agent)/cwd", body: Data(#"{"path":"src"}"#.utf8)).status == 200)
        let shared = try await g1.share(agent, "docs/readme.md")
        let url = try #require(shared.string("url"))
        let source = try #require(cluster.nodeHolding(agent))
        var before = try ArchiveSupport.fingerprint(cluster.nodes[source].workspace(of: agent))
        before["pipe"] = nil  // a FIFO is never archived
        let moved = try await g2.post("/v1/agents/\(agent)/move", json: [String: Any]())
        #expect(moved.status == 200, "\(moved.text)")
        #expect(moved.string("from") == "n\(source + 1)")
        let target = try #require(cluster.nodeHolding(agent))
        #expect(target != source)
        #expect(moved.string("node") == "n\(target + 1)")
        let after = try ArchiveSupport.fingerprint(cluster.nodes[target].workspace(of: agent))
        #expect(after == before, "differs at \(Set(after.keys).symmetricDifference(before.keys).union(before.keys.filter { after[$0] != nil && after[$0] != before[$0] }).sorted().prefix(10))")
        // Through both gateways (the one that did not move it had the old owner cached).
        for gateway in [g1, g2] {
            let info = try await gateway.agentInfo(agent)
            #expect(info.string("state") == "active", "\(info.status) \(info.text)")
            #expect((info.json["limits"] as? [String: Any])?["max_concurrent_calls"] as? Int == 7)
            #expect(info.string("cwd") == "src")
            #expect(try await gateway.bash(agent, "stat -c %a src/main.py").string("stdout")?.contains("755") == true)
        }
        let path = try #require(URL(string: url)?.path)
        let download = try await g1.request("GET", path, headers: [:])
        #expect(download.status == 200 && download.text == "notes\n")
        // The share's content moved with the agent: the new node publishes it (so the link outlives a
        // drained and stopped old node), and the old node dropped its copy.
        let token = path.split(separator: "/")[1]
        let postgres = try await TestPostgres.shared()
        let row = try postgres.psql("SELECT node_id || ' ' || sha256 FROM shares WHERE token = '\(token)'", database: cluster.databaseURL).split(separator: " ")
        #expect(row.first.map(String.init) == "n\(target + 1)")
        let blob = "\(row.last ?? "")".prefix(2) + "/" + (row.last ?? "")
        let blobs = ".agentsandbox/shares/blobs/"
        #expect(FileManager.default.fileExists(atPath: cluster.nodes[target].dataRoot.appendingPathComponent(blobs + blob).path))
        #expect(!FileManager.default.fileExists(atPath: cluster.nodes[source].dataRoot.appendingPathComponent(blobs + blob).path), "the old node kept the share's content")
        // A copy whose bytes are not the share's content (same size, other bytes) is refused and changes nothing.
        let forged = try await cluster.nodes[source].request("PUT", "/v1/agents/\(agent)/cluster/shares/\(token)", body: Data("NOTES\n".utf8))
        #expect(forged.status == 400, "\(forged.text)")
        #expect(forged.string("error")?.contains("SHA-256") == true, "\(forged.text)")
        #expect(try postgres.psql("SELECT node_id FROM shares WHERE token = '\(token)'", database: cluster.databaseURL) == "n\(target + 1)")
    }

    /// A snapshot's stored archive lives on its agent's node: a move carries it along (and the old node
    /// drops its copy), so it restores on the new node; a fork `from_snapshot` through either gateway is
    /// made on that node.
    @Test func snapshotsTravelWithAMovedAgentAndForkThroughEitherGateway() async throws {
        let cluster = try await Self.cluster.get()
        let (g1, g2) = (cluster.gateways[0], cluster.gateways[1])
        let agent = try #require(try await g1.post("/v1/agents", json: [String: Any]()).string("agent_id"))
        #expect(try await g1.write(agent, "state.txt", "before the snapshot").string("status") == "ok")
        let snapshot = try await g1.snapshotID(agent)
        #expect(try await g1.write(agent, "state.txt", "after the snapshot").string("status") == "ok")
        let source = try #require(cluster.nodeHolding(agent))
        let sourceBlobs = cluster.nodes[source].dataRoot.appendingPathComponent(".agentsandbox/snapshots/\(agent)").path
        #expect(FileManager.default.fileExists(atPath: sourceBlobs))
        let moved = try await g2.post("/v1/agents/\(agent)/move", json: [String: Any]())
        #expect(moved.status == 200, "\(moved.text)")
        let target = try #require(cluster.nodeHolding(agent))
        #expect(target != source)
        #expect(!FileManager.default.fileExists(atPath: sourceBlobs), "the old node kept the snapshot's archive")
        let restored = try await g1.restore(agent, snapshot)
        #expect(restored.status == 200, "\(restored.text)")
        #expect(try await g1.read(agent, "state.txt").string("content") == "before the snapshot")
        for gateway in [g1, g2] {
            let fork = try await gateway.createAgent(["from_snapshot": snapshot])
            #expect(fork.status == 201, "\(fork.text)")
            let copy = try #require(fork.string("agent_id"))
            #expect(cluster.nodeHolding(copy) == target)
            #expect(try await gateway.read(copy, "state.txt").string("content") == "before the snapshot")
        }
    }

    /// `agent-sandbox node drain n1`: every agent n1 holds moves to the other nodes with its files, new
    /// agents avoid n1 while it drains, and a restart registers it `up` again.
    @Test func drainingANodeMovesEveryAgentAwayAndPlacementSkipsIt() async throws {
        let cluster = try await Self.cluster.get()
        let gateway = cluster.gateways[0]
        var onFirst: [String] = []
        while onFirst.count < 2 {
            let agent = try #require(try await gateway.post("/v1/agents", json: [String: Any]()).string("agent_id"))
            #expect(try await gateway.write(agent, "d.txt", "drained \(agent)").string("status") == "ok")
            if cluster.nodeHolding(agent) == 0 { onFirst.append(agent) }
        }
        let arguments = ["node", "drain", "n1", "--url", gateway.baseURL, "--api-key", gateway.apiKey]
        let drained = try await offPool { try runCLI(arguments) }
        #expect(drained.status == 0, "\(drained.output)")
        let postgres = try await TestPostgres.shared()
        let left = "SELECT COUNT(*) FROM agents WHERE node_id = 'n1' AND state <> 'deleted'"
        #expect(try postgres.psql(left, database: cluster.databaseURL) == "0", "\(drained.output)")
        #expect(try postgres.psql("SELECT state FROM nodes WHERE id = 'n1'", database: cluster.databaseURL) == "draining")
        for agent in onFirst {
            #expect(!FileManager.default.fileExists(atPath: cluster.nodes[0].workspace(of: agent).path), "n1 kept no copy")
            #expect(try await cluster.gateways[1].read(agent, "d.txt").string("content") == "drained \(agent)")
        }
        for _ in 0..<6 {
            let agent = try #require(try await gateway.post("/v1/agents", json: [String: Any]()).string("agent_id"))
            #expect(cluster.nodeHolding(agent) != 0, "a draining node gets no new agents")
        }
        try await cluster.nodes[0].restart()
        try await cluster.waitForNode("n1", state: "up", via: gateway)
    }

    /// Last: it stops a node. Only that node's agents fail, with 503 NODE_UNAVAILABLE and a sentence;
    /// when it comes back they work again.
    @Test func aKilledNodeFailsOnlyItsOwnAgentsUntilItReturns() async throws {
        let cluster = try await Self.cluster.get()
        var byNode: [Int: String] = [:]
        while byNode.count < 3 {
            let agent = try #require(try await cluster.gateways[0].post("/v1/agents", json: [String: Any]()).string("agent_id"))
            let holder = try #require(cluster.nodeHolding(agent))
            if byNode[holder] == nil {
                byNode[holder] = agent
                #expect(try await cluster.gateways[0].write(agent, "f.txt", "x").string("status") == "ok")
            }
        }
        let victim = cluster.nodes[2]
        victim.stop(signal: SIGKILL)
        for gateway in cluster.gateways {
            let failed = try await gateway.read(byNode[2]!, "f.txt")
            #expect(failed.status == 503)
            #expect(failed.string("error_code") == "NODE_UNAVAILABLE")
            #expect(failed.string("error")?.contains("n3") == true)
            #expect(failed.headers["retry-after"] != nil)
            for survivor in [byNode[0]!, byNode[1]!] {
                #expect(try await gateway.read(survivor, "f.txt").string("content") == "x")
            }
        }
        try await cluster.waitForNode("n3", state: "unavailable", via: cluster.gateways[1])
        // New agents avoid the dead node.
        for _ in 0..<6 {
            let agent = try #require(try await cluster.gateways[1].post("/v1/agents", json: [String: Any]()).string("agent_id"))
            #expect(cluster.nodeHolding(agent) != 2)
        }
        try await victim.start()
        try await cluster.waitForNode("n3", state: "up", via: cluster.gateways[0])
        for gateway in cluster.gateways {
            #expect(try await gateway.read(byNode[2]!, "f.txt").string("content") == "x")
        }
    }
}

/// The suite's one cluster, started on first use.
actor SharedCluster {
    private var starting: Task<TestCluster, any Error>?

    func get() async throws -> TestCluster {
        if let starting { return try await starting.value }
        let task = Task { try await TestCluster(databaseURL: try await TestPostgres.shared().makeDatabase()).start() }
        starting = task
        return try await task.value
    }
}
