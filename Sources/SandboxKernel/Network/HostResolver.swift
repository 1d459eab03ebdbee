#if canImport(Glibc)
import Glibc
#endif

/// The host's DNS set-up as isolated agents get it. An agent cannot use the host's resolver address
/// directly: it is often on the host's loopback (systemd-resolved's 127.0.0.53) or in a private range
/// (a cloud's 10.x or 169.254.x resolver), both refused. So the agent's `/etc/resolv.conf` names its own
/// gateway, and nftables redirects (DNAT) port 53 on any host address to the host's first IPv4
/// nameserver — the only way through to a host or private address an agent has.
struct HostResolver: Sendable {
    /// The host's first IPv4 nameserver; nil when resolv.conf names none (agents then get no DNS).
    let nameserver: String?
    /// `search`, `domain` and `options` lines, kept as the host has them.
    let otherLines: [String]
    /// Where resolv.conf really is (the target of a symlink such as systemd's stub file): the agent's
    /// copy is bound there, so that the host's `/etc/resolv.conf` symlink leads to it inside the sandbox.
    let path: String

    /// Reads `/etc/resolv.conf` (or `path`).
    static func read(_ file: String = "/etc/resolv.conf") -> HostResolver {
        let text = readSmallFile(file, limit: 64 << 10) ?? ""
        var nameserver: String?
        var others: [String] = []
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = words.first else { continue }
            if keyword == "nameserver", words.count > 1, nameserver == nil, IPv4Network.parseAddress(String(words[1])) != nil {
                nameserver = String(words[1])
            } else if ["search", "domain", "options"].contains(String(keyword)) {
                others.append(String(line))
            }
        }
        var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let path = realpath(file, &resolved) != nil ? String(decoding: resolved.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : file
        return HostResolver(nameserver: nameserver, otherLines: others, path: path)
    }

    /// Whether the nameserver is on the host's loopback (then the agent's veth needs `route_localnet`
    /// for the redirected packets to be delivered).
    var isLoopback: Bool { nameserver?.hasPrefix("127.") ?? false }

    /// The agent's resolv.conf: its gateway as the nameserver, the host's search and options.
    func agentFile(gateway: String) -> String {
        (["nameserver \(gateway)"] + otherLines).joined(separator: "\n") + "\n"
    }
}
