import Crypto

/// HMAC-SHA-256 (swift-crypto): the one place the warm sandbox's reply authentication computes and
/// checks a code. The zygote computes the same code in C (`Sources/SandboxExec`).
enum HMACSHA256 {
    /// A key made ready once (its padded blocks hashed): each code then hashes only its message. A warm
    /// sandbox checks two replies per call under one key.
    struct Key: @unchecked Sendable {  // immutable; HMAC is a value type that is copied per code
        private let keyed: HMAC<SHA256>

        init(_ key: [UInt8]) {
            keyed = HMAC(key: SymmetricKey(data: key))
        }

        /// The 32-byte authentication code of `message`.
        func code(for message: [UInt8]) -> [UInt8] {
            var mac = keyed
            mac.update(data: message)
            return Array(mac.finalize())
        }
    }

    /// The 32-byte authentication code of `message` under `key`.
    static func code(for message: [UInt8], key: [UInt8]) -> [UInt8] {
        Key(key).code(for: message)
    }

    /// Whether `a` and `b` are equal, in time that depends only on their lengths.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
