import Foundation
import Testing

/// `network: "isolated"` (the default for new agents): each agent its own network namespace, shared by
/// its calls and sessions; NAT to "the internet"; the host, private and link-local ranges and other
/// agents refused at once. Issue 18's test layout (`NetworkLab`): the server runs in a test-made
/// namespace ("the machine", the host as agents see it) whose only route leads to a test-made internet,
/// so the pool's addresses and the agents' veths never sit on the host's network and no packet leaves
/// these namespaces.
@Suite(.serialized, .enabled(if: isRoot, "needs root for namespaces, veths and nftables"))
final class NetworkIsolationTests {
    static let pool = "10.201.0.0/20"
    let server: TestServer
    let lab: NetworkLab

    init() async throws {
        lab = try NetworkLab(offset: 5)
        server = TestServer(extraArguments: ["--host", lab.machineAddress, "--network-pool", Self.pool], wrapper: lab.wrapper)
        server.connectHost = lab.machineAddress
        try await server.start()
    }

    deinit {
        server.stop()
        lab.tearDown()
    }

    /// bash that prints `open` or `refused` for a TCP connection to `host:port`, and fails the call
    /// (exit 124) if it takes more than `seconds`: a refusal must be fast, not a silent drop.
    static func probe(_ host: String, _ port: Int, seconds: Int = 5) -> String {
        "timeout \(seconds) bash -c 'exec 3<>/dev/tcp/\(host)/\(port)' 2>/dev/null && echo open || { [ $? = 124 ] && echo hung || echo refused; }"
    }

    @Test func twoAgentsListenOnTheSamePortAndASessionServerIsReachableFromTheNextCall() async throws {
        let (first, second) = (newAgent(), newAgent())
        for agent in [first, second] {
            _ = try await server.call("file_write", agent: agent, ["path": "who.txt", "content": "I am \(agent)\n"])
            _ = try await server.startSession(agent, "exec python3 -m http.server 3000 --bind 127.0.0.1")
        }
        for agent in [first, second] {
            let reply = try await server.bash(agent, "for i in $(seq 100); do curl -sf http://127.0.0.1:3000/who.txt && exit 0; sleep 0.1; done; exit 7")
            #expect(reply.string("stdout") == "I am \(agent)\n", "each agent's port 3000 is its own: \(reply.text)")
        }
    }

    @Test func theHostAndItsListenersAreRefusedFast() async throws {
        // A listener on every address of the machine (the host as agents see it): anything that reached it would connect.
        let port = 38000 + Int(getpid() % 1000)
        let process = try lab.start(in: lab.machine, [
            "/usr/bin/python3", "-c",
            "import socket,time\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', \(port))); s.listen(); time.sleep(120)",
        ])
        defer { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        var listening = false
        for _ in 0..<200 {
            listening = try lab.inMachine("ss -ltn 'sport = :\(port)' | grep -q LISTEN").status == 0
            if listening { break }
            usleep(50_000)
        }
        #expect(listening, "the machine's listener is up (else every probe is refused for nothing)")
        let agent = newAgent()
        let gateway = try await server.bash(agent, "awk '$2 == \"00000000\" { print $3 }' /proc/net/route").string("stdout") ?? ""
        let hex = gateway.trimmingCharacters(in: .whitespacesAndNewlines)
        let bytes = stride(from: 6, through: 0, by: -2).compactMap { UInt8(hex.dropFirst($0).prefix(2), radix: 16) }.map(String.init)
        #expect(bytes.count == 4, "the agent has a default route: \(gateway)")
        let hostAddresses = try lab.inMachine("ip -4 -o addr show scope global | awk '{ split($4, a, \"/\"); print a[1] }'").output
            .split(separator: "\n").map(String.init)
        let targets = [(bytes.joined(separator: "."), port), (bytes.joined(separator: "."), server.port), ("127.0.0.1", port), ("127.0.0.1", server.port)]
            + hostAddresses.flatMap { [($0, port), ($0, server.port)] }
        let script = targets.map { "echo \($0.0):\($0.1) $(\(Self.probe($0.0, $0.1)))" }.joined(separator: "\n")
        let reply = try await server.bash(agent, script)
        let lines = (reply.string("stdout") ?? "").split(separator: "\n")
        #expect(lines.count == targets.count, "\(reply.text)")
        for line in lines { #expect(line.hasSuffix(" refused"), "\(line)") }
    }

    @Test func theInternetIsReachedThroughNATWithTheHostsAddress() async throws {
        let reply = try await server.bash(newAgent(), "curl -s --max-time 10 http://\(FakeInternet.address):8080/")
        #expect(reply.string("stdout") == "peer=\(FakeInternet.hostSide)\n", "\(reply.text)")
    }

    @Test func metadataPrivateRangesAndOtherAgentsAreRefused() async throws {
        let (agent, other) = (newAgent(), newAgent())
        _ = try await server.startSession(other, "exec python3 -m http.server 3000 --bind 0.0.0.0")
        let ready = try await server.bash(other, """
            for i in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:3000/ && break; sleep 0.1; done
            curl -sf -o /dev/null http://127.0.0.1:3000/ && echo up
            /usr/sbin/ip -4 -o addr show eth0 | awk '{ split($4, a, "/"); print a[1] }'
            """).string("stdout") ?? ""
        let lines = ready.split(separator: "\n").map(String.init)
        #expect(lines.first == "up", "the other agent's server answers it: \(ready)")
        let otherAddress = lines.count > 1 ? lines[1] : ""
        var targets = ["169.254.169.254:80", "169.254.169.254:8080", "10.99.0.10:8080", "192.168.1.1:80", "100.64.0.1:80"]
        if !otherAddress.isEmpty { targets.append("\(otherAddress):3000") }
        let script = targets.map { target -> String in
            let parts = target.split(separator: ":")
            return "echo \(target) $(\(Self.probe(String(parts[0]), Int(parts[1])!)))"
        }.joined(separator: "\n")
        let reply = try await server.bash(agent, script)
        let results = (reply.string("stdout") ?? "").split(separator: "\n")
        #expect(results.count == targets.count, "\(reply.text)")
        for line in results { #expect(line.hasSuffix(" refused"), "\(line)") }
        #expect(!otherAddress.isEmpty, "the other agent knows its address")
    }

    @Test(.enabled(if: FakeInternet.routedNameserver != nil, "the host's nameserver is on its loopback: DNS would leave the test's namespaces"))
    func namesResolveThroughTheGateway() async throws {
        let reply = try await server.bash(newAgent(), "getent ahostsv4 example.test | head -1; cat /etc/resolv.conf | grep -c nameserver")
        #expect(reply.string("stdout")?.hasPrefix("\(FakeInternet.address) ") == true, "\(reply.text)")
    }

    @Test func networkNoneHasOnlyLoopbackAndHostIsTheHostsNetwork() async throws {
        let (none, host) = (newAgent(), newAgent())
        #expect(try await server.post("/v1/agents", json: ["agent_id": none, "network": "none"]).status == 201)
        #expect(try await server.post("/v1/agents", json: ["agent_id": host, "network": "host"]).status == 201)
        let interfaces = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' '"
        #expect(try await server.bash(none, interfaces).string("stdout") == "lo ")
        let serverNamespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(server.pid)/ns/net")
        #expect(try await server.bash(host, "readlink /proc/self/ns/net").string("stdout") == serverNamespace + "\n", "host: the server's own namespace")
        let isolated = try await server.bash(newAgent(), interfaces).string("stdout")
        #expect(isolated == "eth0 lo ", "an isolated agent sees its own veth and loopback")
        #expect(try await server.agentInfo(host).string("network") == "host")
    }

    @Test func insideTheNamespaceIpNftAndRawSocketsChangeNothing() async throws {
        let agent = newAgent()
        let reply = try await server.bash(agent, """
            /usr/sbin/ip addr add 10.201.15.1/32 dev eth0 2>/dev/null && echo addr-added
            /usr/sbin/ip link set eth0 down 2>/dev/null && echo link-down
            /usr/sbin/ip route del default 2>/dev/null && echo route-deleted
            /usr/sbin/nft flush ruleset 2>/dev/null && echo nft-flushed
            python3 -c 'import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)' 2>/dev/null && echo raw-socket
            python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)' 2>/dev/null && echo raw-ip
            curl -s --max-time 10 http://\(FakeInternet.address):8080/
            """)
        #expect(reply.string("stdout") == "peer=\(FakeInternet.hostSide)\n", "no change took, and the way out still works: \(reply.text)")
    }

    @Test func deletingTheAgentRemovesItsNamespaceVethAndSetElement() async throws {
        let agent = newAgent()
        let before = try ArchiveSupport.shell("ls /run/agent-sandbox/netns/ | grep -v lock | sort").output
        _ = try await server.bash(agent, "true")
        let after = try ArchiveSupport.shell("ls /run/agent-sandbox/netns/ | grep -v lock | sort").output
        let added = Set(after.split(separator: "\n")).subtracting(before.split(separator: "\n"))
        let interface = try #require(added.first.map(String.init), "the agent's namespace file appeared: \(after)")
        let table = "agentsandbox_\(server.port)"
        #expect(try lab.inMachine("ip link show \(interface)").status == 0)
        #expect(try lab.inMachine("nft list set inet \(table) agent_ifs").output.contains("\"\(interface)\""))
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)").status == 200)
        #expect(try lab.inMachine("ip link show \(interface)").status != 0, "the veth is gone")
        #expect(!FileManager.default.fileExists(atPath: "/run/agent-sandbox/netns/\(interface)"), "the namespace file is gone")
        #expect(!(try lab.inMachine("nft list set inet \(table) agent_ifs").output.contains("\"\(interface)\"")), "the set element is gone")
        let mounts = readProcFile("/proc/self/mountinfo")
        #expect(!mounts.contains("/run/agent-sandbox/netns/\(interface) "), "the namespace is unbound")
    }
}
