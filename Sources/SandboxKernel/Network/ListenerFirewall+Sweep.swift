extension ListenerFirewall {
    /// Deletes the `inet agentsandbox_<port>` tables of servers that are gone: a server killed with
    /// SIGKILL never removes its table, and every table left in the kernel makes each later nftables
    /// transaction slower (measured: one `add element` 7 ms beside 1 table, 170 ms beside 200), which
    /// a new agent's first call pays. A table is abandoned when nothing listens on its port in this
    /// network namespace (a server binds its port before it installs its table, and removes the table
    /// before it stops). Returns how many were deleted.
    ///
    /// `listening` is read from /proc/net/tcp, which the kernel hands out a page at a time: a live
    /// listener can be skipped when other sockets open or close between two pages (measured: 1 read in
    /// 1215 under listener churn). A port missing from it is therefore confirmed with `isListening(port:)`
    /// before its table goes; deleting a live server's table would let agents reach its port.
    static func sweepAbandoned(keeping table: String, listening: Set<Int> = listeningPorts()) -> Int {
        guard let listing = NetworkCommand.output("nft", ["list", "tables", "inet"]) else { return 0 }
        let abandoned = listing.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            guard words.count == 3, words[0] == "table", words[1] == "inet", words[2].hasPrefix("agentsandbox_"), words[2] != table,
                  let port = Int(words[2].dropFirst("agentsandbox_".count)), !listening.contains(port), !isListening(port: port) else { return nil }
            return String(words[2])
        }
        guard !abandoned.isEmpty else { return 0 }
        let script = abandoned.map { "delete table inet \($0)" }.joined(separator: "\n") + "\n"
        return HostCommand.run("nft", ["-f", "-"], input: script) == nil ? abandoned.count : 0
    }

    /// Whether a TCP socket listens on `port` in this network namespace (IPv4 or IPv6), asked of the
    /// kernel for that port alone (`ss`: a socket-diag query the kernel filters, answered in one pass, so
    /// it cannot skip a listener as a paged /proc read can). True when `ss` (iproute2) is missing or fails:
    /// a table is kept rather than deleted on a guess.
    static func isListening(port: Int) -> Bool {
        guard let lines = NetworkCommand.output("ss", ["-H", "-l", "-t", "-n", "sport", "=", ":\(port)"]) else { return true }
        return lines.contains { !$0.isWhitespace }
    }

    /// TCP ports with a listening socket in this network namespace (IPv4 and IPv6).
    static func listeningPorts() -> Set<Int> {
        let tables = ["/proc/net/tcp", "/proc/net/tcp6"].compactMap { readSmallFile($0, limit: 64 << 20) }
        return Set(tables.flatMap { ListeningSocket.parse($0).map(\.port) })
    }
}
