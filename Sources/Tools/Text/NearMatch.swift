/// The EDIT_NOT_FOUND sentence: when the text occurs with different whitespace only (indentation,
/// tabs vs spaces, trailing blanks, line endings), it names the line so the caller can copy it exactly.
enum NearMatch {
    /// Files larger than this get the plain message (the scan splits the file into lines).
    static let scanLimit = 8 << 20

    static func message(for oldText: String, in bytes: [UInt8], display: String) -> String {
        let plain = "old_text was not found in '\(display)' (the match is exact and case-sensitive). Read the file with file_read and copy the text exactly, including indentation and line breaks."
        if bytes.isEmpty {
            return "old_text was not found: '\(display)' is empty. Use file_write to give it content."
        }
        guard bytes.count <= scanLimit, let line = firstLine(matching: oldText, in: bytes) else { return plain }
        let shown = splitLines(bytes)[line - 1].trimmingSuffix(while: { $0 == "\r" }).prefix(200)
        return "old_text was not found exactly in '\(display)', but a match that differs only in whitespace (indentation, tabs/spaces or line endings) starts at line \(line): `\(shown)`. Read those lines with file_read (start_line=\(line)) and copy them exactly into old_text."
    }

    /// The 1-based line where `oldText` matches once every run of whitespace is collapsed.
    static func firstLine(matching oldText: String, in bytes: [UInt8]) -> Int? {
        var wanted = splitLines(Array(oldText.utf8)).map(normalize)
        while wanted.first?.isEmpty == true { wanted.removeFirst() }
        while wanted.last?.isEmpty == true { wanted.removeLast() }
        guard !wanted.isEmpty else { return nil }
        let lines = splitLines(bytes).map(normalize)
        guard lines.count >= wanted.count else { return nil }
        for start in 0...(lines.count - wanted.count) where matches(wanted, lines, at: start) {
            return start + 1
        }
        return nil
    }

    /// A single wanted line may sit inside a file line; for several, the first must end a line, the
    /// last must start one, and those between must be equal.
    private static func matches(_ wanted: [String], _ lines: [String], at start: Int) -> Bool {
        if wanted.count == 1 { return !wanted[0].isEmpty && lines[start].contains(wanted[0]) }
        guard lines[start].hasSuffix(wanted[0]), lines[start + wanted.count - 1].hasPrefix(wanted[wanted.count - 1]) else { return false }
        for index in 1..<(wanted.count - 1) where lines[start + index] != wanted[index] { return false }
        return true
    }

    /// Lines split at `\n` bytes (a `\r\n` pair is one Character in Swift, so split bytes, not text).
    static func splitLines(_ bytes: [UInt8]) -> [Substring] {
        bytes.split(separator: ByteText.newline, omittingEmptySubsequences: false).map { Substring(String(decoding: $0, as: UTF8.self)) }
    }

    /// Whitespace runs collapsed to one space, trimmed at both ends.
    static func normalize(_ line: Substring) -> String {
        line.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}

extension Substring {
    func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var result = self
        while let last = result.last, predicate(last) { result = result.dropLast() }
        return result
    }
}
