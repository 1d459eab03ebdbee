import Foundation
import HTTPTypes
import Synchronization

/// Checks API keys: SHA-256 hashes kept in the store, compared in constant time.
///
/// Keys are 256-bit random strings, so a fast hash is enough (there is nothing to brute-force).
/// The keys that matched are remembered (`Known`) so that a client's every request does not hash its
/// key again (SHA-256 and its hex were ~1 µs of each call); a change of the stored hashes forgets them.
public final class APIKeyAuthority: Sendable {
    private let known: Mutex<Known>
    private let store: (any SandboxStore)?
    /// When the store was last re-read for keys created by `agent-sandbox key create`.
    private let lastReload = Mutex<ContinuousClock.Instant?>(nil)

    init(hashes: [String], store: (any SandboxStore)? = nil) {
        self.known = Mutex(Known(hashes: hashes.map { Array($0.utf8) }))
        self.store = store
    }

    /// Loads the stored key hashes; registers `adminKey` (from the environment) when given, otherwise
    /// generates a key on first start. Returns the generated key, to be printed once.
    public static func bootstrap(store: any SandboxStore, adminKey: String?) async throws -> (APIKeyAuthority, generatedKey: String?) {
        var generated: String?
        if let adminKey, !adminKey.isEmpty {
            try await store.insertAPIKey(hash: SHA256Hasher.hex(adminKey), name: "admin (AGENT_SANDBOX_API_KEY)")
        } else if try await store.apiKeyHashes().isEmpty {
            let key = generateKey()
            try await store.insertAPIKey(hash: SHA256Hasher.hex(key), name: "admin (generated)")
            generated = key
        }
        return (APIKeyAuthority(hashes: try await store.apiKeyHashes(), store: store), generated)
    }

    /// The stored keys, without registering any (a cluster gateway: nodes register the admin keys).
    public static func load(store: any SandboxStore) async throws -> APIKeyAuthority {
        APIKeyAuthority(hashes: try await store.apiKeyHashes(), store: store)
    }

    /// A new key: `ask_` + 64 hex characters (256 random bits).
    public static func generateKey() -> String {
        var generator = SystemRandomNumberGenerator()
        return "ask_" + (0..<32).map { _ in
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }

    /// The key a request presents: `x-api-key`, or `Authorization: Bearer <key>`.
    public static func presentedKey(in headers: HTTPFields) -> String? {
        presentedKey(apiKey: headers.value(of: apiKeyField), authorization: headers[.authorization])
    }

    /// The key a request presents, from its `x-api-key` and `Authorization` values.
    public static func presentedKey(apiKey: String?, authorization: String?) -> String? {
        if let key = apiKey, !key.isEmpty { return key }
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else { return nil }
        let key = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        return key.isEmpty ? nil : key
    }

    static let apiKeyField = HTTPField.Name("x-api-key")!

    /// Checks a key; on a miss, re-reads the store (at most once a second) for keys added meanwhile.
    public func isValid(_ presented: String) async -> Bool {
        if matches(presented) { return true }
        return await isValidAfterReload(presented)
    }

    /// Checks a key against the keys in memory only (no store access, no suspension).
    public func isKnown(_ presented: String) -> Bool {
        matches(presented)
    }

    /// The miss path of `isValid`: re-reads the store (at most once a second) and checks again.
    public func isValidAfterReload(_ presented: String) async -> Bool {
        guard let store else { return false }
        let now = ContinuousClock.now
        let due = lastReload.withLock { last in
            guard last.map({ now - $0 > .seconds(1) }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return false }
        await reload(from: store)
        return matches(presented)
    }

    /// Keeps the keys in memory current until cancelled, so that a key revoked with `agent-sandbox key
    /// revoke` (deleted from the store by another process) stops working. A store that announces key
    /// changes (`APIKeyChangeFeed`, PostgreSQL) is re-read on each change, and every `backstop` in case
    /// an announcement was lost with its connection; any other store (a single box's SQLite file) is
    /// re-read every `interval`.
    public func runRefreshLoop(interval: Duration = .milliseconds(250), backstop: Duration = .seconds(10)) async {
        guard let store else { return }
        guard let feed = store as? any APIKeyChangeFeed else { return await poll(store, every: interval) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.poll(store, every: backstop) }
            group.addTask {
                while !Task.isCancelled {
                    try? await feed.followAPIKeyChanges { await self.reload(from: store) }
                    // The listening connection failed: listen again on a fresh one (which re-reads first).
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    private func poll(_ store: any SandboxStore, every interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await reload(from: store)
        }
    }

    private func reload(from store: any SandboxStore) async {
        guard let fresh = try? await store.apiKeyHashes() else { return }
        let hashes = fresh.map { Array($0.utf8) }
        known.withLock { known in
            if known.hashes != hashes { known = Known(hashes: hashes) }
        }
    }

    private func matches(_ presented: String) -> Bool {
        let bytes = Array(presented.utf8)
        if known.withLock({ $0.isRemembered(bytes) }) { return true }
        let candidate = Array(SHA256Hasher.hex(presented).utf8)
        return known.withLock { known in
            var matched = false
            for hash in known.hashes where Self.constantTimeEqual(hash, candidate) { matched = true }
            if matched { known.remember(bytes) }
            return matched
        }
    }

    /// The stored key hashes and the presented keys that matched one of them since they were loaded.
    private struct Known {
        let hashes: [[UInt8]]
        /// At most `limit` keys, compared in constant time as the hashes are; the oldest makes room.
        private var remembered: [[UInt8]] = []
        private static let limit = 16

        init(hashes: [[UInt8]]) {
            self.hashes = hashes
        }

        func isRemembered(_ key: [UInt8]) -> Bool {
            var matched = false
            for known in remembered where APIKeyAuthority.constantTimeEqual(known, key) { matched = true }
            return matched
        }

        mutating func remember(_ key: [UInt8]) {
            guard !isRemembered(key) else { return }
            if remembered.count == Self.limit { remembered.removeFirst() }
            remembered.append(key)
        }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
