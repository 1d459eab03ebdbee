import Crypto
import Foundation

/// SHA-256 over bytes (swift-crypto); used for API-key hashes and share checksums.
public struct SHA256Hasher {
    private var hash = Crypto.SHA256()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hash.update(bufferPointer: bytes)
    }

    public mutating func update<Bytes: ContiguousBytes>(_ bytes: Bytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest as lower-case hex; the hasher is spent afterwards.
    public mutating func finalizeHex() -> String {
        hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    public static func hex(_ text: String) -> String {
        var hasher = SHA256Hasher()
        hasher.update(Array(text.utf8))
        return hasher.finalizeHex()
    }
}
