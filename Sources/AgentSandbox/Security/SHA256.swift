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
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 64) { buffer in
            for (index, byte) in digest.enumerated() {
                buffer[2 * index] = digits[Int(byte >> 4)]
                buffer[2 * index + 1] = digits[Int(byte & 0x0f)]
            }
            return 64
        }
    }

    public static func hex(_ text: String) -> String {
        var hasher = SHA256Hasher()
        hasher.update(Array(text.utf8))
        return hasher.finalizeHex()
    }
}
