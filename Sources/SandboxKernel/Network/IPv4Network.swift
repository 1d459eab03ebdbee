/// An IPv4 prefix such as `10.200.0.0/16` (the address is stored with its host bits cleared).
public struct IPv4Network: Sendable, Equatable, CustomStringConvertible {
    /// The network address, host byte order.
    public let address: UInt32
    public let prefixLength: Int

    /// Parses `a.b.c.d/len` (or a bare address, /32); nil when malformed.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = Self.parseAddress(String(parts[0])) else { return nil }
        var length = 32
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...32).contains(value) else { return nil }
            length = value
        }
        self.init(address: address, prefixLength: length)
    }

    public init(address: UInt32, prefixLength: Int) {
        self.prefixLength = prefixLength
        self.address = address & Self.mask(prefixLength)
    }

    /// `a.b.c.d` → host-order integer; nil when malformed.
    public static func parseAddress(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, let byte = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    /// Host-order integer → `a.b.c.d`.
    public static func format(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xff).\(address >> 8 & 0xff).\(address & 0xff)"
    }

    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : UInt32.max << UInt32(32 - length) }

    /// Addresses in the prefix.
    public var size: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }

    public func contains(_ other: UInt32) -> Bool { other & Self.mask(prefixLength) == address }

    public var description: String { "\(Self.format(address))/\(prefixLength)" }
}

/// Where isolated agents' networks come from and what they may not reach.
public struct IsolatedNetworkSettings: Sendable {
    /// One /31 per agent (host end even, agent end odd) is cut from this pool. Shared by every server on
    /// the host (slots are claimed through lock files), so pick one range for all of them.
    public var pool = IPv4Network("10.200.0.0/16")!
    /// Destinations refused to agents (besides every address of the host itself and the pool): this
    /// network, RFC 1918, carrier-grade NAT, loopback, link-local (cloud metadata), multicast and reserved.
    public var deny: [IPv4Network] = IsolatedNetworkSettings.defaultDeny

    /// The egress policy of agents without one of their own (`--egress-allow`, `--egress-deny`).
    public var egress = EgressPolicy()
    /// Whether an explicit allow entry may open a range of the deny list (`--egress-allow-private`): off,
    /// the deny list wins over every allow entry. The host itself, the pool and other agents stay refused.
    public var allowPrivateEgress = false
    /// The nameserver egress host names are looked up at (default: the host's, from /etc/resolv.conf).
    public var egressNameserver: (address: String, port: UInt16)?

    /// Make namespaces with `unshare` and `ip` instead of the exec helper (benchmark comparison only).
    public var iproute2Maker = false

    public static let defaultDeny = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4",
    ].map { IPv4Network($0)! }

    public init() {}
}
