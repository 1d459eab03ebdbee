/// Rendezvous (highest-random-weight) hashing: every gateway that sees the same nodes picks the same
/// node for the same key, with no coordination, and removing a node moves only the keys it held.
///
/// ```swift
/// let node = Rendezvous.choose(key: agentID.rawValue, among: nodes.filter { $0.hasRoom(window: 15) })
/// ```
public enum Rendezvous {
    /// The node with the highest score for `key`; nil when `nodes` is empty.
    public static func choose(key: String, among nodes: [ClusterNode]) -> ClusterNode? {
        nodes.max { score(node: $0.id, key: key) < score(node: $1.id, key: key) }
    }

    /// Node ids ordered from most to least preferred for `key` (ties, practically absent, by id).
    public static func rank(key: String, nodes: [String]) -> [String] {
        nodes.map { ($0, score(node: $0, key: key)) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            .map(\.0)
    }

    /// The weight of `(node, key)`: FNV-1a over both, finished by the splitmix64 mixer so that close
    /// inputs land far apart. Stable across processes and machines (no seeded `Hasher`).
    public static func score(node: String, key: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in node.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        hash = (hash ^ 0xff) &* 0x100_0000_01b3
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
        return hash ^ (hash >> 31)
    }
}
