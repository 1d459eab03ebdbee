/// The TCP ports something listens on in a network namespace, read from `/proc/net/tcp` and
/// `/proc/net/tcp6` as seen from inside it (`NetworkNamespaceEntry`).
public struct ListeningSocket: Sendable, Equatable {
    public let port: Int
    /// The bound address as text: `127.0.0.1`, `0.0.0.0`, `::`, …
    public let address: String

    package init(port: Int, address: String) {
        self.port = port
        self.address = address
    }

    /// The listening sockets of the namespace at `path`, one per port and address, by port.
    package static func read(namespace path: String) throws -> [ListeningSocket] {
        let tables = try NetworkNamespaceEntry.inside(path) {
            [readSmallFile("/proc/thread-self/net/tcp") ?? "", readSmallFile("/proc/thread-self/net/tcp6") ?? ""]
        }
        var seen = Set<String>()
        var result: [ListeningSocket] = []
        for table in tables {
            for socket in parse(table) where seen.insert("\(socket.address) \(socket.port)").inserted { result.append(socket) }
        }
        return result.sorted { ($0.port, $0.address) < ($1.port, $1.address) }
    }

    /// The `LISTEN` (state `0A`) rows of one table: `sl local_address rem_address st …`, addresses as
    /// hex `ADDR:PORT` (IPv4: one little-endian word; IPv6: four).
    static func parse(_ table: String) -> [ListeningSocket] {
        table.split(separator: "\n").dropFirst().compactMap { line in
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            guard columns.count > 3, columns[3] == "0A" else { return nil }
            let local = columns[1].split(separator: ":")
            guard local.count == 2, let port = Int(local[1], radix: 16) else { return nil }
            return ListeningSocket(port: port, address: formatAddress(String(local[0])))
        }
    }

    private static func formatAddress(_ hex: String) -> String {
        let bytes = stride(from: 0, to: hex.count, by: 2).compactMap { offset -> UInt8? in
            let start = hex.index(hex.startIndex, offsetBy: offset)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)
        }
        // Each 32-bit word is in host (little-endian) order.
        let ordered = stride(from: 0, to: bytes.count, by: 4).flatMap { bytes[$0..<min($0 + 4, bytes.count)].reversed() }
        if ordered.count == 4 { return ordered.map(String.init).joined(separator: ".") }
        if ordered.count == 16 {
            if ordered[0..<10].allSatisfy({ $0 == 0 }), ordered[10] == 0xff, ordered[11] == 0xff {
                return "::ffff:" + ordered[12...].map(String.init).joined(separator: ".")
            }
            let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(ordered[$0]) << 8 | UInt16(ordered[$0 + 1]), radix: 16) }
            return compress(groups)
        }
        return hex
    }

    /// `0:0:0:0:0:0:0:1` → `::1` (the longest run of zero groups collapsed).
    private static func compress(_ groups: [String]) -> String {
        var best = (start: -1, length: 0), run = (start: -1, length: 0)
        for (index, group) in groups.enumerated() {
            if group == "0" {
                run = run.start < 0 ? (index, 1) : (run.start, run.length + 1)
                if run.length > best.length { best = run }
            } else {
                run = (-1, 0)
            }
        }
        guard best.length > 1 else { return groups.joined(separator: ":") }
        let head = groups[..<best.start].joined(separator: ":"), tail = groups[(best.start + best.length)...].joined(separator: ":")
        return head + "::" + tail
    }
}
