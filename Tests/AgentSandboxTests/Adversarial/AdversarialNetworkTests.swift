import Foundation
import Testing

/// One isolated agent attacks another's traffic at layer 2. An agent cannot even open a packet socket
/// (no CAP_NET_RAW in its namespace; a user namespace of its own holds an empty network). So the test
/// plays a stronger attacker: root inside agent A's namespace (entered by the test) sends gratuitous
/// ARP replies claiming agent B's address and B's gateway, and an IPv6 router advertisement, while
/// listening on A's interface. Agent B's connections still reach "the internet" (`NetworkLab`: the
/// server itself runs in a test-made namespace) and A sees none of B's packets: each agent's veth is a point-to-point link to the host,
/// whose neighbour entries are per interface, and IPv6 is off on both ends.
@Suite(.serialized, .enabled(if: isRoot, "needs root for namespaces, veths and nftables"))
final class AdversarialNetworkTests {
    static let pool = "10.203.0.0/20"
    let server: TestServer
    let lab: NetworkLab

    /// The server runs in a test-made namespace whose only route leads to a test-made internet.
    init() async throws {
        lab = try NetworkLab(offset: 2)
        server = TestServer(extraArguments: ["--host", lab.machineAddress, "--network-pool", Self.pool], wrapper: lab.wrapper)
        server.connectHost = lab.machineAddress
        try await server.start()
    }

    deinit {
        server.stop()
        lab.tearDown()
    }

    @Test func anAgentCannotOpenRawSocketsOrReachItsNetworkFromANewUserNamespace() async throws {
        let agent = newAgent()
        let reply = try await server.bash(agent, """
            python3 -c '
            import socket, errno
            for family, kind, proto in ((socket.AF_PACKET, socket.SOCK_RAW, 0), (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)):
                try: socket.socket(family, kind, proto); print("opened")
                except PermissionError as e: print(errno.errorcode[e.errno])'
            mine=$(readlink /proc/self/ns/net)
            out=$(unshare -Urn sh -c 'readlink /proc/self/ns/net; /usr/sbin/ip -o link | grep -c eth0' 2>/dev/null)
            if [ -z "$out" ]; then echo userns-refused; else set -- $out; [ "$1" = "$mine" ] && echo same-namespace || echo "own-namespace $2"; fi
            """)
        let lines = (reply.string("stdout") ?? "").split(separator: "\n").map(String.init)
        #expect(lines.prefix(2) == ["EPERM", "EPERM"], "no packet or raw IP socket: \(reply.text)")
        #expect(lines.last == "userns-refused" || lines.last == "own-namespace 0", "a new user namespace, if any, holds an empty network: \(reply.text)")
    }

    @Test func arpSpoofingAndRouterAdvertisementsFromOneAgentDoNotReachAnothersTraffic() async throws {
        let (attacker, victim) = (newAgent(), newAgent())
        _ = try await server.bash(attacker, "true")
        let addresses = try await server.bash(victim, "/usr/sbin/ip -4 -o addr show eth0 | awk '{split($4, a, \"/\"); print a[1]}'; /usr/sbin/ip -4 route show default | awk '{print $3}'")
        let words = (addresses.string("stdout") ?? "").split(separator: "\n").map(String.init)
        try #require(words.count == 2, "the victim's address and gateway: \(addresses.text)")
        let (victimAddress, victimGateway) = (words[0], words[1])
        let index = try #require(EgressPolicyTests.slotIndex(of: attacker), "the attacker holds a network slot")
        let attack = Process()
        attack.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        attack.arguments = ["--net=/run/agent-sandbox/netns/asv\(index)", "/usr/bin/python3", "-c", Self.attackProgram, victimAddress, victimGateway, "8"]
        let output = Pipe()
        attack.standardOutput = output
        attack.standardError = output
        try attack.run()
        try await Task.sleep(for: .seconds(1))
        var answers: [String] = []
        for _ in 0..<4 {
            let reply = try await server.bash(victim, "curl -s --max-time 5 http://\(FakeInternet.address):8080/")
            answers.append(reply.string("stdout") ?? reply.text)
            try await Task.sleep(for: .milliseconds(500))
        }
        attack.waitUntilExit()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(answers == Array(repeating: "peer=\(FakeInternet.hostSide)\n", count: 4), "the victim's traffic still reaches the internet: \(answers)")
        #expect(report.contains("sent ") && !report.contains("sent 0 "), "the attacker sent its frames: \(report)")
        #expect(report.contains("seen 0\n"), "the attacker saw none of the victim's packets: \(report)")
        let neighbours = try lab.inMachine("ip neigh show to \(victimAddress); ip neigh show to \(victimGateway)").output
        #expect(!neighbours.contains("dev asv\(index) "), "the host learnt no victim address on the attacker's link: \(neighbours)")
    }

    /// Runs as root in the attacker's namespace: argv = victim address, victim gateway, seconds.
    static let attackProgram = """
        import socket, struct, sys, time
        victim, gateway, seconds = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2]), float(sys.argv[3])
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)); s.bind(("eth0", 0)); s.settimeout(0.1)
        mac = s.getsockname()[4]
        def arp(ip):
            return b"\\xff" * 6 + mac + b"\\x08\\x06" + struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, mac, ip, b"\\xff" * 6, ip)
        def checksum(data):
            data += b"\\0" * (len(data) % 2); total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
            while total >> 16: total = (total & 0xffff) + (total >> 16)
            return ~total & 0xffff
        source = b"\\xfe\\x80" + b"\\0" * 6 + mac[:3] + b"\\xff\\xfe" + mac[3:]
        dest = b"\\xff\\x02" + b"\\0" * 13 + b"\\x01"
        prefix = struct.pack("!BBBBIII16s", 3, 4, 64, 0xc0, 86400, 14400, 0, b"\\x20\\x01\\x0d\\xb8" + b"\\0" * 12)
        body = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0) + prefix
        pseudo = source + dest + struct.pack("!I3xB", len(body), 58)
        body = body[:2] + struct.pack("!H", checksum(pseudo + body)) + body[4:]
        ra = b"\\x33\\x33\\x00\\x00\\x00\\x01" + mac + b"\\x86\\xdd" + struct.pack("!IHBB", 0x60000000, len(body), 58, 255) + source + dest + body
        sent = seen = 0; end = time.time() + seconds; last = 0
        while time.time() < end:
            if time.time() - last > 0.25:
                for frame in (arp(victim), arp(gateway), ra): s.send(frame); sent += 1
                last = time.time()
            try: frame = s.recv(65535)
            except socket.timeout: continue
            if frame[12:14] == b"\\x08\\x00" and victim in (frame[26:30], frame[30:34]): seen += 1
        print("sent %d " % sent); print("seen %d" % seen)
        """
}
