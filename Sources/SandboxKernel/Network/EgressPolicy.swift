/// Where an `isolated` agent may connect: `{"allow": [...], "deny": [...]}`, each entry a CIDR, an
/// address or a host name, with an optional `:port` or `:port-port` (`203.0.113.0/24`, `pypi.org:443`,
/// `*:25`). Deny wins. An empty `allow` admits everything the built-in deny list does not refuse; a
/// non-empty one admits only its entries. Host names are resolved by the server and refreshed on their
/// DNS TTL (`EgressHostnames`).
///
/// Set per agent (`POST /v1/agents {"egress": …}`, `PATCH /v1/agents/{id}`) or as the server's default
/// (`--egress-allow`, `--egress-deny`), which agents without a policy of their own follow.
public struct EgressPolicy: Codable, Sendable, Equatable {
    public var allow: [String]
    public var deny: [String]

    public init(allow: [String] = [], deny: [String] = []) {
        self.allow = allow
        self.deny = deny
    }

    /// Most entries in one list.
    public static let maxEntries = 256
}

/// One entry of an egress list: a destination (addresses or a host name) and an optional port range.
public struct EgressEntry: Sendable, Equatable {
    public enum Destination: Sendable, Equatable {
        case network(IPv4Network)
        case host(String)
    }

    public let destination: Destination
    /// nil: every port (and protocols without ports, such as ICMP).
    public let ports: ClosedRange<UInt16>?

    /// Parses a validated entry; nil when malformed.
    public init?(_ text: String) {
        guard Self.problem(text) == nil, let parsed = Self.split(text) else { return nil }
        self = parsed
    }

    private init(destination: Destination, ports: ClosedRange<UInt16>?) {
        self.destination = destination
        self.ports = ports
    }

    /// What is wrong with `text` as an entry, as the end of a sentence; nil when it is fine.
    public static func problem(_ text: String) -> String? {
        if text.contains("[") || text.filter({ $0 == ":" }).count > 1 {
            return "is an IPv6 address: isolated agents have IPv4 only"
        }
        guard split(text) != nil else {
            return "is not a CIDR, an address or a host name with an optional :port or :port-port, such as 203.0.113.0/24, 198.51.100.7:443 or pypi.org:443"
        }
        return nil
    }

    private static func split(_ text: String) -> EgressEntry? {
        var target = Substring(text)
        var ports: ClosedRange<UInt16>?
        if let colon = text.lastIndex(of: ":") {
            target = text[..<colon]
            guard let range = portRange(text[text.index(after: colon)...]) else { return nil }
            ports = range
        }
        if target == "*" { return EgressEntry(destination: .network(IPv4Network(address: 0, prefixLength: 0)), ports: ports) }
        if target.first?.isNumber == true, target.last?.isLetter == false {
            guard let network = IPv4Network(String(target)) else { return nil }
            return EgressEntry(destination: .network(network), ports: ports)
        }
        guard isHostName(target) else { return nil }
        return EgressEntry(destination: .host(String(target)), ports: ports)
    }

    /// `443` or `8000-9000`, within 1…65535.
    private static func portRange(_ text: Substring) -> ClosedRange<UInt16>? {
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(bounds.count), let low = UInt16(bounds[0]), low >= 1 else { return nil }
        let high = bounds.count == 2 ? UInt16(bounds[1]) : low
        guard let high, high >= low else { return nil }
        return low...high
    }

    /// RFC 1123 names: dot-separated labels of letters, digits and inner hyphens; the last not numeric.
    private static func isHostName(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard (1...63).contains(label.count), label.first != "-", label.last != "-",
                  label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return false }
        }
        return labels.last?.contains(where: \.isLetter) == true
    }
}

