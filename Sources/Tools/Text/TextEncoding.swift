import AgentSandbox

/// How the text tools turn a file's bytes into text and back, so an edit or an append never leaves a
/// file of two encodings.
///
/// Detection is deliberately simple and honest: a file that is valid UTF-8 (ASCII included) is
/// `utf-8`; any other file is `latin-1`, meaning "one byte per character, U+0000–U+00FF". Legacy
/// single-byte code pages (cp1251, windows-1252, ISO 8859-x, KOI8-R) cannot be told apart reliably
/// from the bytes alone — they all use 0x80–0xFF for letters — so none is guessed. Latin-1 is the
/// lossless byte mapping: `file_read` shows every byte as one character, an edit's text is encoded
/// back byte for byte, and every untouched byte stays identical. Text that Latin-1 cannot hold is
/// refused with `ENCODING_MISMATCH` instead of being written as UTF-8 into a legacy file.
///
/// ```swift
/// let encoding = TextEncoding.detect(bytes)          // .latin1 for a cp1251 file
/// let old = try encoding.encode(oldText, field: "old_text", display: path)
/// ```
enum TextEncoding: String, Sendable {
    case utf8 = "utf-8"
    case latin1 = "latin-1"

    /// `utf-8` when `bytes` are valid UTF-8, otherwise `latin-1`.
    static func detect(_ bytes: [UInt8]) -> TextEncoding {
        String(validating: bytes, as: UTF8.self) == nil ? .latin1 : .utf8
    }

    /// The text of `bytes` in this encoding (UTF-8: invalid sequences replaced; Latin-1: lossless).
    func decode(_ bytes: some Collection<UInt8>) -> String {
        switch self {
        case .utf8: String(decoding: bytes, as: UTF8.self)
        case .latin1: String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        }
    }

    /// `text` as bytes in this encoding, or `ENCODING_MISMATCH` naming the first character it cannot hold.
    func encode(_ text: String, field: String, display: String) throws(ToolError) -> [UInt8] {
        guard self == .latin1 else { return Array(text.utf8) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            guard scalar.value <= 0xFF else { throw mismatch(scalar, field: field, display: display) }
            bytes.append(UInt8(scalar.value))
        }
        return bytes
    }

    private func mismatch(_ scalar: Unicode.Scalar, field: String, display: String) -> ToolError {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        return ToolError(.encodingMismatch, "'\(display)' is not UTF-8, so it is handled as latin-1 (one byte per character, as file_read shows it), and \(field) contains '\(Character(scalar))' (\(code)), which that encoding cannot hold; writing it as UTF-8 would mix two encodings in one file. Use only characters from file_read's content (U+0000–U+00FF), or convert the file first, e.g. with bash: iconv -f cp1251 -t utf-8 '\(display)' > tmp && mv tmp '\(display)'.")
    }
}

/// Checks, one chunk at a time, whether a streamed file is valid UTF-8 (a sequence split across two
/// chunks is held back until the rest arrives), so `file_read` can report the encoding of the whole
/// file without holding it.
struct UTF8Validity {
    /// False once an invalid sequence was seen.
    private(set) var valid = true
    private var held: [UInt8] = []

    mutating func consume(_ chunk: UnsafeRawBufferPointer) {
        guard valid, !chunk.isEmpty else { return }
        guard !held.isEmpty else { return check(chunk) }
        // Rare: a sequence split across two reads.
        let bytes = held + chunk
        bytes.withUnsafeBytes { check($0) }
    }

    /// Validates `bytes` in place (no copy, no `String`), holding back an unfinished final sequence.
    private mutating func check(_ bytes: UnsafeRawBufferPointer) {
        let cut = Self.incompleteTailStart(bytes)
        held = Array(bytes[cut...])
        valid = (try? UTF8Span(validating: bytes[..<cut].assumingMemoryBound(to: UInt8.self).span)) != nil
    }

    /// The result once the last chunk was consumed: a truncated final sequence is invalid.
    mutating func finish() -> TextEncoding {
        if !held.isEmpty { valid = false }
        return valid ? .utf8 : .latin1
    }

    /// Where a trailing lead byte starts a sequence longer than what follows it; `bytes.count` if none.
    private static func incompleteTailStart(_ bytes: UnsafeRawBufferPointer) -> Int {
        var index = bytes.count - 1
        while index >= max(0, bytes.count - 3) {
            let byte = bytes[index]
            if byte & 0xC0 == 0x80 { index -= 1; continue }
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            return bytes.count - index < length ? index : bytes.count
        }
        return bytes.count
    }
}
