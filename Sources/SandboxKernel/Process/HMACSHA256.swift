import Crypto

/// HMAC-SHA-256 (swift-crypto): the one place the warm sandbox's reply authentication computes and
/// checks a code. The zygote computes the same code in C (`Sources/SandboxExec`).
enum HMACSHA256 {
    /// The 32-byte authentication code of `message` under `key`.
    static func code(for message: [UInt8], key: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    /// Whether `a` and `b` are equal, in time that depends only on their lengths.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
