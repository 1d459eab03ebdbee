/// The addresses of the host names in egress policies, shared by every agent of the server: each name is
/// asked of the nameserver (`DNSLookup`) when first needed and again when its TTL runs out (at least
/// `minimumTTL`, at most `maximumTTL` seconds apart). A name's addresses are those of its latest answer
/// plus, for one TTL, those of the answer before, so an agent that resolved the name a moment before the server did
/// (round-robin DNS, a CDN rotating addresses) is not refused for the address it was given.
/// A failed lookup keeps what was known and is retried after `minimumTTL`.
actor EgressHostnames {
    struct Entry {
        var current: [UInt32] = []
        var previous: [UInt32] = []
        var expires: ContinuousClock.Instant
    }

    static let minimumTTL: UInt32 = 5
    static let maximumTTL: UInt32 = 600

    /// `address:port` of the nameserver; nil: host names resolve to nothing.
    let nameserver: (address: String, port: UInt16)?
    private var entries: [String: Entry] = [:]
    /// Lookups so far (for the benchmark and the logs).
    private(set) var lookups = 0

    init(nameserver: (address: String, port: UInt16)?) {
        self.nameserver = nameserver
    }

    /// The host names an egress policy names.
    static func names(in policy: EgressPolicy) -> Set<String> {
        Set((policy.allow + policy.deny).compactMap { entry -> String? in
            guard case .host(let name)? = EgressEntry(entry)?.destination else { return nil }
            return name
        })
    }

    /// The addresses of each of `names`, looking up those never seen or expired.
    func addresses(of names: Set<String>) async -> [String: [UInt32]] {
        let now = ContinuousClock.now
        let due = names.filter { entries[$0].map { $0.expires <= now } ?? true }
        if !due.isEmpty, let nameserver {
            lookups += due.count
            let answers = await withTaskGroup(of: (String, (addresses: [UInt32], ttl: UInt32)?).self) { group in
                for name in due {
                    group.addTask {
                        let answer = try? await BlockingWork.run { DNSLookup.query(name, server: nameserver.address, port: nameserver.port) }
                        return (name, answer ?? nil)
                    }
                }
                var all: [(String, (addresses: [UInt32], ttl: UInt32)?)] = []
                for await answer in group { all.append(answer) }
                return all
            }
            let looked = ContinuousClock.now
            for (name, answer) in answers {
                var entry = entries[name] ?? Entry(expires: looked)
                if let answer {
                    entry.previous = Set(answer.addresses) == Set(entry.current) ? [] : entry.current
                    entry.current = answer.addresses
                    entry.expires = looked + .seconds(Int(min(max(answer.ttl, Self.minimumTTL), Self.maximumTTL)))
                } else {
                    entry.expires = looked + .seconds(Int(Self.minimumTTL))
                }
                entries[name] = entry
            }
        }
        var result: [String: [UInt32]] = [:]
        for name in names {
            guard let entry = entries[name] else { continue }
            result[name] = Array(Set(entry.current + entry.previous)).sorted()
        }
        return result
    }

    /// When the first of `names` expires; nil when none is known.
    func nextExpiry(of names: Set<String>) -> ContinuousClock.Instant? {
        names.compactMap { entries[$0]?.expires }.min()
    }

    /// Forgets names no policy names any more.
    func keep(only names: Set<String>) {
        entries = entries.filter { names.contains($0.key) }
    }
}
