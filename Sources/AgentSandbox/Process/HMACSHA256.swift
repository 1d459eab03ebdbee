import CSandbox

/// HMAC-SHA-256 (RFC 2104) over CSandbox's SHA-256: the one place the warm sandbox's reply
/// authentication computes a code (swift-crypto's `HMAC<SHA256>` can take its place unchanged).
enum HMACSHA256 {
    /// The 32-byte authentication code of `message` under `key`.
    static func code(for message: [UInt8], key: [UInt8]) -> [UInt8] {
        var block = key.count > 64 ? digest([key]) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        let inner = digest([block.map { $0 ^ 0x36 }, message])
        return digest([block.map { $0 ^ 0x5c }, inner])
    }

    /// Whether `a` and `b` are equal, in time that depends only on their lengths.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func digest(_ parts: [[UInt8]]) -> [UInt8] {
        var context = csandbox_sha256()
        csandbox_sha256_init(&context)
        for part in parts { part.withUnsafeBytes { csandbox_sha256_update(&context, $0.baseAddress, $0.count) } }
        var out = [UInt8](repeating: 0, count: 32)
        csandbox_sha256_final(&context, &out)
        return out
    }
}
