import Foundation

/// A network namespace the test creates to play "the internet" for isolated agents, so that no packet
/// of a network test leaves this machine: a veth (`astinet<N>` on the host, 198.51.100.254/24; `eth0`
/// inside, 198.51.100.1/24) and a policy route that sends everything from the agents' pool that is not
/// for another agent (`throw`) into it. Inside, one Python program answers TCP on port 8080 with the
/// peer address it saw (`peer=ADDR`), on port 8081 too, and DNS queries to the host's nameserver address with 198.51.100.1 for every name. It
/// also holds the addresses agents must not reach (169.254.169.254, 10.99.0.10 and the host's
/// nameserver), so a firewall that let them through would be seen answering.
final class FakeInternet: @unchecked Sendable {
    static let address = "198.51.100.1"
    static let hostSide = "198.51.100.254"
    let pool: String
    let interface: String
    let namespace: String
    private let table: Int
    private var server: Process?

    /// More hosts of "the internet" (on its loopback), for allow and deny lists: each answers like `address`.
    static let otherHosts = ["203.0.113.10", "203.0.113.20", "203.0.113.30"]

    /// `offset` keeps two suites of one test process apart (their own interface, namespace and table).
    init(pool: String, offset: Int = 0) throws {
        self.pool = pool
        let serial = Int(getpid() % 1000) + offset * 1000
        interface = "astinet\(serial)"
        namespace = "/run/agent-sandbox/test-inet-\(serial)"
        table = 4200 + serial
        try setUp()
    }

    /// The host's first IPv4 nameserver when it is not on the host's loopback (DNS is then routed here).
    static var routedNameserver: String? {
        let text = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        let server = text.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            return words.count > 1 && words[0] == "nameserver" && words[1].contains(".") ? String(words[1]) : nil
        }.first
        return server.flatMap { $0.hasPrefix("127.") ? nil : $0 }
    }

    private func setUp() throws {
        tearDown()
        let extra = ["169.254.169.254", "10.99.0.10"] + Self.otherHosts + (Self.routedNameserver.map { [$0] } ?? [])
        let script = """
            set -e
            mkdir -p /run/agent-sandbox && touch \(namespace)
            unshare --net=\(namespace) /bin/sh -c 'ip link set lo up
              ip link add eth0 type veth peer name \(interface) netns /proc/\(getpid())/ns/net
              ip addr add \(Self.address)/24 dev eth0 && ip link set eth0 up
              \(extra.map { "ip addr add \($0)/32 dev lo" }.joined(separator: "\n"))
              ip route add default via \(Self.hostSide)'
            ip addr add \(Self.hostSide)/24 dev \(interface) && ip link set \(interface) up
            ip route add default via \(Self.address) dev \(interface) table \(table)
            ip route add throw \(pool) table \(table)
            ip rule add from \(pool) lookup \(table) priority \(table)
            """
        let result = try ArchiveSupport.shell(script)
        guard result.status == 0 else { throw TestFailure("fake internet: \(result.output)") }
        let program = Self.program
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        process.arguments = ["--net=\(namespace)", "/usr/bin/python3", "-c", program]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        server = process
        for _ in 0..<200 {
            let probe = try ArchiveSupport.shell("nsenter --net=\(namespace) ss -ltn 'sport = :8080' | grep -q LISTEN")
            if probe.status == 0 { return }
            try await_(0.05)
        }
        throw TestFailure("the fake internet's server did not start")
    }

    /// The internet's servers: TCP 8080 and 8081 answer `peer=ADDR`; DNS at the host's nameserver
    /// address answers every name with `address`.
    static let program = """
        import socket, struct, threading
        def tcp(port):
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", port)); s.listen(64)
            while True:
                c, a = s.accept()
                try:
                    c.settimeout(2)
                    try: c.recv(4096)
                    except Exception: pass
                    body = ("peer=%s\\n" % a[0]).encode()
                    c.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body) + body)
                finally: c.close()
        def dns():
            # Bound to the nameserver's address: a reply must come from the address the query went to.
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("\(FakeInternet.routedNameserver ?? "127.0.0.1")", 53))
            while True:
                q, a = s.recvfrom(512)
                end = q.index(b"\\0", 12) + 5
                answer = b"\\xc0\\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("\(FakeInternet.address)")
                s.sendto(q[:2] + b"\\x81\\x80" + q[4:6] + b"\\x00\\x01\\x00\\x00\\x00\\x00" + q[12:end] + answer, a)
        threading.Thread(target=dns, daemon=True).start()
        threading.Thread(target=tcp, args=(8081,), daemon=True).start()
        tcp(8080)
        """

    private func await_(_ seconds: Double) throws { usleep(UInt32(seconds * 1_000_000)) }

    /// Removes the namespace, veth, policy route and the server.
    func tearDown() {
        if let server, server.isRunning {
            // SIGKILL: the child may start with SIGTERM blocked (Foundation's spawn keeps the signal mask).
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        server = nil
        _ = try? ArchiveSupport.shell("""
            ip rule del from \(pool) lookup \(table) priority \(table) 2>/dev/null
            ip route flush table \(table) 2>/dev/null
            ip link del \(interface) 2>/dev/null
            umount \(namespace) 2>/dev/null; rm -f \(namespace); true
            """)
    }
}
