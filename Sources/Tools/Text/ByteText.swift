#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// Byte-level text helpers over file contents: exact search, line counting and cat -n rendering.
/// Work stays in libc (`memmem`, `memchr`) so 50 MB files are fast even in debug builds.
enum ByteText {
    static let newline = UInt8(ascii: "\n")

    /// Offsets of the non-overlapping occurrences of `needle`, left to right (at most `limit`).
    static func occurrences(of needle: [UInt8], in haystack: [UInt8], limit: Int = .max) -> [Int] {
        guard !needle.isEmpty else { return [] }
        var found: [Int] = []
        haystack.withUnsafeBytes { hay in
            needle.withUnsafeBytes { pin in
                var offset = 0
                while found.count < limit, offset + pin.count <= hay.count {
                    let hit = csandbox_find(hay.baseAddress! + offset, hay.count - offset, pin.baseAddress!, pin.count)
                    if hit < 0 { break }
                    found.append(offset + hit)
                    offset += hit + pin.count
                }
            }
        }
        return found
    }

    /// Newlines in `bytes[range]`.
    static func newlines(in bytes: [UInt8], _ range: Range<Int>) -> Int {
        guard !range.isEmpty else { return 0 }
        return bytes.withUnsafeBytes { Int(csandbox_count_byte($0.baseAddress! + range.lowerBound, range.count, newline)) }
    }

    /// Lines in a file's content: a final line without newline counts; an empty file has 0.
    static func lineCount(_ bytes: [UInt8]) -> Int {
        newlines(in: bytes, 0..<bytes.count) + (bytes.last.map { $0 == newline ? 0 : 1 } ?? 0)
    }

    /// 1-based line numbers of ascending `offsets`, in one pass.
    static func lineNumbers(of offsets: [Int], in bytes: [UInt8]) -> [Int] {
        var line = 1
        var previous = 0
        return offsets.map { offset in
            line += newlines(in: bytes, previous..<offset)
            previous = offset
            return line
        }
    }

    /// Whether the file uses CRLF line endings (its first line break is `\r\n`).
    static func usesCRLF(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.firstIndex(of: newline) else { return false }
        return first > 0 && bytes[first - 1] == UInt8(ascii: "\r")
    }

    /// `text` with every line break written as `\r\n`.
    static func crlf(_ text: String) -> String {
        text.replacingAll("\r\n", with: "\n").replacingAll("\n", with: "\r\n")
    }

    /// Start offset of the line `back` lines before the one containing `offset` (0 = its own line),
    /// looking at most `within` bytes back.
    static func lineStart(before offset: Int, back: Int, in bytes: [UInt8], within: Int = 4096) -> Int {
        var position = min(offset, bytes.count)
        let floor = max(0, position - within)
        var remaining = back
        while position > floor {
            if bytes[position - 1] == newline {
                if remaining == 0 { return position }
                remaining -= 1
            }
            position -= 1
        }
        return floor
    }

    /// End offset (after the newline) of the line `forward` lines after the one containing `offset`,
    /// looking at most `within` bytes ahead.
    static func lineEnd(after offset: Int, forward: Int, in bytes: [UInt8], within: Int = 4096) -> Int {
        var position = max(offset, 0)
        let ceiling = min(bytes.count, position + within)
        var remaining = forward
        while position < ceiling {
            if bytes[position] == newline {
                if remaining == 0 { return position + 1 }
                remaining -= 1
            }
            position += 1
        }
        return ceiling
    }

    /// `bytes` rendered cat -n style ("     7\tline"), numbering from `firstLine`.
    static func numbered(_ bytes: ArraySlice<UInt8>, firstLine: Int, encoding: TextEncoding = .utf8) -> String {
        var output = ""
        output.reserveCapacity(bytes.count + bytes.count / 8 + 16)
        var line = firstLine
        var rest = bytes[...]
        while !rest.isEmpty {
            let end = rest.firstIndex(of: newline).map { $0 + 1 } ?? rest.endIndex
            let number = String(line)
            output += String(repeating: " ", count: max(0, 6 - number.count)) + number + "\t"
            output += encoding.decode(rest[rest.startIndex..<end])
            rest = rest[end...]
            line += 1
        }
        return output
    }
}

extension String {
    /// Every occurrence of `target` replaced (Foundation-free, byte-exact).
    func replacingAll(_ target: String, with replacement: String) -> String {
        let bytes = Array(utf8)
        let hits = ByteText.occurrences(of: Array(target.utf8), in: bytes)
        guard !hits.isEmpty else { return self }
        var output: [UInt8] = []
        var previous = 0
        for hit in hits {
            output += bytes[previous..<hit]
            output += replacement.utf8
            previous = hit + target.utf8.count
        }
        output += bytes[previous...]
        return String(decoding: output, as: UTF8.self)
    }
}
