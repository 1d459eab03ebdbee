/// Holds back an incomplete UTF-8 sequence at the end of a chunk until the rest arrives, so a character
/// split across two pipe reads is not rendered as two replacement characters. Holds at most 3 bytes.
package struct UTF8Boundary {
    package init() {}
    package private(set) var held: [UInt8] = []

    /// `bytes` prefixed with what was held, minus an incomplete trailing sequence (kept for next time).
    package mutating func take(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var all = held
        all.append(contentsOf: bytes)
        let cut = Self.incompleteTailStart(all)
        held = Array(all[cut...])
        all.removeSubrange(cut...)
        return all
    }

    /// Whatever is held (at EOF, or when nothing more arrived in time).
    package mutating func flush() -> [UInt8] {
        defer { held = [] }
        return held
    }

    /// Where a trailing lead byte starts a sequence longer than what follows it; `bytes.count` if none.
    package static func incompleteTailStart(_ bytes: [UInt8]) -> Int {
        var index = bytes.count - 1
        let lowest = max(0, bytes.count - 3)
        while index >= lowest {
            let byte = bytes[index]
            if byte & 0xC0 == 0x80 { index -= 1; continue }  // continuation byte
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            return bytes.count - index < length ? index : bytes.count
        }
        return bytes.count
    }
}
