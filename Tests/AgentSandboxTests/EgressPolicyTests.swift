import Foundation
import Testing

/// Egress policies of isolated agents (`egress: {allow, deny}`) in issue 18's test layout (`NetworkLab`):
/// the server runs inside a test-made namespace whose only route leads to a test-made "internet"
/// (198.51.100.1 and 203.0.113.10/.20/.30, each answering on 8080 and 8081; the LAN's 10.99.0.10 and
/// metadata's 169.254.169.254 answer there too, so a leak would be seen); host names come from a
/// nameserver on the machine's loopback (`FakeNameserver`). No packet leaves these namespaces.
/// The server's default denies 203.0.113.30, which agents without a policy of their own follow.
@Suite(.serialized, .enabled(if: isRoot, "needs root for namespaces, veths and nftables"))
final class EgressPolicyTests {
    static let pool = "10.202.0.0/20"
    let server: TestServer
    let lab: NetworkLab
    let names: FakeNameserver

    init() async throws {
        lab = try NetworkLab(offset: 1)
        names = try FakeNameserver(records: ["allowed.test": "203.0.113.10"], namespace: lab.machine)
        server = TestServer(extraArguments: [
            "--host", lab.machineAddress, "--network-pool", Self.pool, "--egress-deny", "203.0.113.30", "--egress-nameserver", names.address,
        ], wrapper: lab.wrapper)
        server.connectHost = lab.machineAddress
        try await server.start()
    }

    deinit {
        server.stop()
        names.stop()
        lab.tearDown()
    }

    /// Creates an isolated agent with `egress` (nil: the server's default).
    func agent(egress: [String: [String]]? = nil) async throws -> String {
        let id = newAgent()
        var body: [String: Any] = ["agent_id": id, "network": "isolated"]
        if let egress { body["egress"] = egress }
        let reply = try await server.post("/v1/agents", json: body)
        #expect(reply.status == 201, "\(reply.text)")
        return id
    }

    /// `target → open|refused|hung` for each `host:port`, from inside the agent, in one call.
    func reach(_ agent: String, _ targets: [String]) async throws -> [String: String] {
        let script = targets.map { target -> String in
            let parts = target.split(separator: ":")
            return "echo \(target) $(\(NetworkIsolationTests.probe(String(parts[0]), Int(parts[1])!)))"
        }.joined(separator: "\n")
        let reply = try await server.bash(agent, script)
        var result: [String: String] = [:]
        for line in (reply.string("stdout") ?? "").split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2 { result[String(words[0])] = String(words[1]) }
        }
        #expect(result.count == targets.count, "every probe answered: \(reply.text)")
        return result
    }

    @Test func anAllowlistAdmitsOnlyItsEntries() async throws {
        let agent = try await agent(egress: ["allow": ["203.0.113.10/32", "198.51.100.1:8081"]])
        let result = try await reach(agent, ["203.0.113.10:8080", "203.0.113.10:8081", "198.51.100.1:8081", "198.51.100.1:8080", "203.0.113.20:8080"])
        #expect(result == ["203.0.113.10:8080": "open", "203.0.113.10:8081": "open", "198.51.100.1:8081": "open",
                           "198.51.100.1:8080": "refused", "203.0.113.20:8080": "refused"])
        let egress = try await server.agentInfo(agent).json["egress"] as? [String: [String]]
        #expect(egress == ["allow": ["203.0.113.10/32", "198.51.100.1:8081"], "deny": []], "GET shows the policy")
    }

    @Test func aDenyEntryBeatsAnAllowEntry() async throws {
        let agent = try await agent(egress: ["allow": ["203.0.113.0/24"], "deny": ["203.0.113.20", "*:8081"]])
        let result = try await reach(agent, ["203.0.113.10:8080", "203.0.113.20:8080", "203.0.113.10:8081", "198.51.100.1:8080"])
        #expect(result == ["203.0.113.10:8080": "open", "203.0.113.20:8080": "refused", "203.0.113.10:8081": "refused", "198.51.100.1:8080": "refused"])
    }

    @Test func allowEntriesDoNotOpenPrivateRangesMetadataOrTheHost() async throws {
        let agent = try await agent(egress: ["allow": ["10.99.0.10", "169.254.169.254", "198.51.100.1", "10.202.0.0/20"]])
        let gateway = try await server.bash(agent, "/usr/sbin/ip -4 route show default | awk '{print $3}'").string("stdout")?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let result = try await reach(agent, ["10.99.0.10:8080", "169.254.169.254:8080", "198.51.100.1:8080", "\(gateway):\(server.port)"])
        #expect(result == ["10.99.0.10:8080": "refused", "169.254.169.254:8080": "refused", "198.51.100.1:8080": "open", "\(gateway):\(server.port)": "refused"])
    }

    @Test func theInternetAnswersAndTheLANMetadataHostServicesAndOtherAgentsAreRefusedFast() async throws {
        let (agent, other) = (try await agent(egress: ["allow": [], "deny": []]), try await agent())
        // A service of "the host" (the machine the server runs in), on every address it has.
        let port = 39000 + Int(getpid() % 1000)
        try lab.start(in: lab.machine, ["/usr/bin/python3", "-c", "import socket,time\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', \(port))); s.listen(); time.sleep(600)"])
        _ = try await server.startSession(other, "exec python3 -m http.server 3000 --bind 0.0.0.0")
        _ = try await server.startSession(agent, "exec python3 -m http.server 3000 --bind 127.0.0.1")
        let up = "for i in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:3000/ && break; sleep 0.1; done; curl -sf -o /dev/null http://127.0.0.1:3000/ && echo up"
        #expect(try await server.bash(agent, up).string("stdout") == "up\n", "each agent listens on its own port 3000")
        let otherAddress = try await server.bash(other, up + "; /usr/sbin/ip -4 -o addr show eth0 | awk '{split($4, a, \"/\"); print a[1]}'")
            .string("stdout")?.split(separator: "\n").last.map(String.init) ?? ""
        let gateway = try await server.bash(agent, "/usr/sbin/ip -4 route show default | awk '{print $3}'").string("stdout")?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let targets = ["10.99.0.10:8080", "169.254.169.254:80", "169.254.169.254:8080", "\(gateway):\(port)", "\(lab.machineAddress):\(port)",
                       "\(gateway):\(server.port)", "\(lab.machineAddress):\(server.port)", "\(otherAddress):3000"]
        // "refused": the connection failed before the probe's 5 s bound ("hung" after it): fast, not a drop.
        let result = try await reach(agent, targets + ["198.51.100.1:8080"])
        #expect(result["198.51.100.1:8080"] == "open", "the internet answers")
        for target in targets { #expect(result[target] == "refused", "\(target): \(result[target] ?? "no answer")") }
    }

    @Test func theServersDefaultAppliesToAgentsWithoutAPolicyOfTheirOwn() async throws {
        let (following, own) = (try await agent(), try await agent(egress: ["allow": [], "deny": []]))
        #expect(try await reach(following, ["203.0.113.30:8080", "203.0.113.20:8080"]) == ["203.0.113.30:8080": "refused", "203.0.113.20:8080": "open"])
        #expect(try await reach(own, ["203.0.113.30:8080"]) == ["203.0.113.30:8080": "open"])
        let listed = try await server.request("GET", "/v1/agents").json["agents"] as? [[String: Any]] ?? []
        let entry = listed.first { $0["agent_id"] as? String == following }
        #expect(entry?["egress"] as? [String: [String]] == ["allow": [], "deny": ["203.0.113.30"]], "the list shows the policy in force")
    }

    @Test func aLivePatchAppliesToTheNextConnectionWhileEarlierProcessesRun() async throws {
        let agent = try await agent(egress: ["allow": [], "deny": []])
        let session = try await server.startSession(agent, "exec sleep 600")
        #expect(try await reach(agent, ["203.0.113.20:8080"]) == ["203.0.113.20:8080": "open"])
        let patch = try await server.request("PATCH", "/v1/agents/\(agent)", body: try JSONSerialization.data(withJSONObject: ["egress": ["deny": ["203.0.113.20"]]]))
        #expect(patch.status == 200, "\(patch.text)")
        #expect((patch.json["egress"] as? [String: [String]])?["deny"] == ["203.0.113.20"])
        #expect(try await reach(agent, ["203.0.113.20:8080", "203.0.113.10:8080"]) == ["203.0.113.20:8080": "refused", "203.0.113.10:8080": "open"])
        #expect(try await server.session(agent, session).string("state") == "running", "the session started before the change runs on")
        // null: back to the server's default (which denies .30, not .20).
        let reset = try await server.request("PATCH", "/v1/agents/\(agent)", body: Data(#"{"egress": null}"#.utf8))
        #expect(reset.status == 200, "\(reset.text)")
        #expect(try await reach(agent, ["203.0.113.20:8080", "203.0.113.30:8080"]) == ["203.0.113.20:8080": "open", "203.0.113.30:8080": "refused"])
        _ = try await server.killSession(agent, session, "KILL")
    }

    @Test func hostNamesAreResolvedAndFollowTheirDNSAnswer() async throws {
        try names.set(["allowed.test": "203.0.113.10"])
        let agent = try await agent(egress: ["allow": ["allowed.test:8080", "missing.test"]])
        #expect(try await reach(agent, ["203.0.113.10:8080", "203.0.113.10:8081", "203.0.113.20:8080"])
            == ["203.0.113.10:8080": "open", "203.0.113.10:8081": "refused", "203.0.113.20:8080": "refused"])
        // The name moves: after its TTL (5 s at least) the new address is admitted.
        try names.set(["allowed.test": "203.0.113.20"])
        var moved: [String: String] = [:]
        for _ in 0..<30 {
            moved = try await reach(agent, ["203.0.113.20:8080"])
            if moved["203.0.113.20:8080"] == "open" { break }
            try await Task.sleep(for: .seconds(1))
        }
        #expect(moved == ["203.0.113.20:8080": "open"], "the refreshed answer is admitted")
    }

    @Test func badEntriesAre400sNamingTheField() async throws {
        let created = try await server.post("/v1/agents", json: ["agent_id": newAgent(), "egress": ["allow": ["pypi.org", "10.0.0.0/8", "300.1.2.3"]]])
        #expect(created.status == 400)
        #expect(created.string("error")?.contains("egress.allow[2]") == true, "\(created.text)")
        #expect(created.string("error_code") == "INVALID_REQUEST", "\(created.text)")
        let agent = try await agent()
        for (body, field) in [(#"{"egress": {"deny": ["example.com:70000"]}}"#, "egress.deny[0]"), (#"{"egress": {"allow": [7]}}"#, "egress.allow[0]"),
                              (#"{"egress": {"allow": "x"}}"#, "egress.allow"), (#"{"egress": {"block": []}}"#, "egress.block"), (#"{"egress": {"deny": ["::1"]}}"#, "egress.deny[0]")] {
            let reply = try await server.request("PATCH", "/v1/agents/\(agent)", body: Data(body.utf8))
            #expect(reply.status == 400, "\(body): \(reply.text)")
            #expect(reply.string("error")?.contains(field) == true, "\(body): \(reply.text)")
        }
        let unchanged = try await server.agentInfo(agent).json["egress"] as? [String: [String]]
        #expect(unchanged == ["allow": [], "deny": ["203.0.113.30"]], "a refused PATCH changes nothing")
    }

    @Test func deletingTheAgentRemovesItsNamespaceVethEgressChainAndSets() async throws {
        let agent = try await agent(egress: ["allow": ["203.0.113.10"]])
        _ = try await server.bash(agent, "true")
        let table = "agentsandbox_\(server.port)"
        let index = try #require(EgressPolicyTests.slotIndex(of: agent), "the agent holds a network slot")
        #expect(try lab.inMachine("nft list chain inet \(table) egress_\(index)").status == 0)
        #expect(try lab.inMachine("nft list map inet \(table) agent_egress").output.contains("\"asv\(index)\""))
        #expect(try lab.inMachine("ip link show asv\(index)").status == 0)
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)").status == 200)
        let ruleset = try lab.inMachine("nft list table inet \(table)").output
        #expect(ruleset.contains("chain agent_forward"), "the server's table is still there")
        #expect(!ruleset.contains("egress_\(index)"), "the chain and its sets are gone: \(ruleset)")
        #expect(!ruleset.contains("\"asv\(index)\""), "no element names its interface")
        #expect(try lab.inMachine("ip link show asv\(index)").status != 0, "the veth is gone")
        #expect(!FileManager.default.fileExists(atPath: "/run/agent-sandbox/netns/asv\(index)"), "the namespace file is gone")
    }

    /// The network slot index an agent holds (`/run/agent-sandbox/netns/asv<N>.lock` names it).
    static func slotIndex(of agent: String) -> Int? {
        let directory = "/run/agent-sandbox/netns"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".lock") {
            let record = (try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)) ?? ""
            if record.contains("agent=\(agent) ") { return Int(name.dropFirst(3).dropLast(5)) }
        }
        return nil
    }
}
