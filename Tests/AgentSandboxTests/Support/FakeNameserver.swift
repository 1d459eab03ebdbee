import Foundation

/// A DNS server on the host's loopback for egress host names (the server under test is pointed at it
/// with `--egress-nameserver`): it answers A queries for the names in `records` (name → address) with a
/// short TTL, and NXDOMAIN for every other name. `set` changes an answer, as a DNS change would.
/// Nothing leaves the machine: it listens on 127.0.0.1 and answers only what it holds.
final class FakeNameserver: @unchecked Sendable {
    static let ttl = 2
    let port: Int
    private let table: URL
    private let process: Process

    /// `namespace`: the network namespace it listens in (nil: the test's own).
    init(records: [String: String], namespace: String? = nil) throws {
        port = 20_000 + Int(getpid() % 20_000)
        table = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("fake-dns-\(getpid()).txt")
        process = Process()
        try write(records)
        let program = """
            import socket, struct
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", \(port)))
            while True:
                q, a = s.recvfrom(512)
                end = q.index(b"\\0", 12)
                labels, i = [], 12
                while q[i]: labels.append(q[i + 1:i + 1 + q[i]].decode().lower()); i += 1 + q[i]
                records = dict(line.split() for line in open("\(table.path)") if line.strip())
                address = records.get(".".join(labels))
                head = q[:2] + (b"\\x81\\x80" if address else b"\\x81\\x83") + q[4:6] + (b"\\x00\\x01" if address else b"\\x00\\x00") + b"\\x00\\x00\\x00\\x00"
                answer = b"\\xc0\\x0c" + struct.pack(">HHIH", 1, 1, \(Self.ttl), 4) + socket.inet_aton(address) if address else b""
                s.sendto(head + q[12:end + 5] + answer, a)
            """
        process.executableURL = URL(fileURLWithPath: namespace == nil ? "/usr/bin/python3" : "/usr/bin/nsenter")
        process.arguments = (namespace.map { ["--net=\($0)", "/usr/bin/python3"] } ?? []) + ["-c", program]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            let enter = namespace.map { "nsenter --net=\($0) " } ?? ""
            if (try? ArchiveSupport.shell("\(enter)ss -lun 'sport = :\(port)' | grep -q UNCONN").status) == 0 { return }
            usleep(50_000)
        }
        throw TestFailure("the fake nameserver did not start")
    }

    /// `host:port` for `--egress-nameserver`.
    var address: String { "127.0.0.1:\(port)" }

    /// Replaces the answers.
    func set(_ records: [String: String]) throws { try write(records) }

    private func write(_ records: [String: String]) throws {
        let text = records.map { "\($0.key) \($0.value)\n" }.joined()
        try text.write(to: table, atomically: true, encoding: .utf8)
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: table)
    }
}
