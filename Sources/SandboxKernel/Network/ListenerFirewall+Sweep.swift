#if canImport(Glibc)
import Glibc
#endif

extension ListenerFirewall {
    /// Deletes the `inet agentsandbox_<port>` tables of servers that are gone: a server killed with
    /// SIGKILL never removes its table, and every table left in the kernel makes each later nftables
    /// transaction slower (measured: one `add element` 7 ms beside 1 table, 170 ms beside 200), which
    /// a new agent's first call pays. A table is abandoned when nothing listens on its port in this
    /// network namespace (a server binds its port before it installs its table, and removes the table
    /// before it stops). Returns how many were deleted.
    static func sweepAbandoned(keeping table: String) -> Int {
        guard let listing = NetworkCommand.output("nft", ["list", "tables", "inet"]) else { return 0 }
        let listening = listeningPorts()
        let abandoned = listing.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            guard words.count == 3, words[0] == "table", words[1] == "inet", words[2].hasPrefix("agentsandbox_"), words[2] != table,
                  let port = Int(words[2].dropFirst("agentsandbox_".count)), !listening.contains(port) else { return nil }
            return String(words[2])
        }
        guard !abandoned.isEmpty else { return 0 }
        let script = abandoned.map { "delete table inet \($0)" }.joined(separator: "\n") + "\n"
        return HostCommand.run("nft", ["-f", "-"], input: script) == nil ? abandoned.count : 0
    }

    /// TCP ports with a listening socket in this network namespace (IPv4 and IPv6).
    static func listeningPorts() -> Set<Int> {
        var ports = Set<Int>()
        for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = readSmallFile(file, limit: 64 << 20) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 3, fields[3] == "0A", let colon = fields[1].lastIndex(of: ":"),
                      let port = Int(fields[1][fields[1].index(after: colon)...], radix: 16) else { continue }
                ports.insert(port)
            }
        }
        return ports
    }
}
