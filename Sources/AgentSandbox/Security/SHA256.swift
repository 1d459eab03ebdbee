import CSandbox
import Foundation

/// SHA-256 over bytes (C implementation in CSandbox); used for API-key hashes and share checksums.
public struct SHA256Hasher {
    private var context = csandbox_sha256()

    public init() { csandbox_sha256_init(&context) }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        csandbox_sha256_update(&context, bytes.baseAddress, bytes.count)
    }

    public mutating func update<Bytes: ContiguousBytes>(_ bytes: Bytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest as lower-case hex; the hasher is spent afterwards.
    public mutating func finalizeHex() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        csandbox_sha256_final(&context, &digest)
        return digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    public static func hex(_ text: String) -> String {
        var hasher = SHA256Hasher()
        hasher.update(Array(text.utf8))
        return hasher.finalizeHex()
    }
}
