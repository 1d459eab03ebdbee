/// The EDIT_NOT_FOUND sentence: when the text occurs with different whitespace only (indentation,
/// tabs vs spaces, trailing blanks, line endings), it names the line so the caller can copy it exactly.
///
/// Works on bytes (ASCII whitespace collapsed), so it stays linear and cheap on large files.
enum NearMatch {
    /// Files larger than this get the plain message.
    static let scanLimit = 4 << 20

    static func message(for oldText: String, in bytes: [UInt8], encoding: TextEncoding = .utf8, display: String) -> String {
        if bytes.isEmpty {
            return "old_text was not found: '\(display)' is empty. Use file_write to give it content (or file_edit with an empty old_text)."
        }
        guard bytes.count <= scanLimit, let (line, text) = firstLine(matching: oldText, in: bytes) else {
            return "old_text was not found in '\(display)' (the match is exact and case-sensitive). Read the file with file_read and copy the text exactly, including indentation and line breaks."
        }
        let shown = encoding.decode(text.prefix(200))
        return "old_text was not found exactly in '\(display)', but a match that differs only in whitespace (indentation, tabs/spaces or line endings) starts at line \(line): `\(shown)`. Read those lines with file_read (start_line=\(line)) and copy them exactly into old_text."
    }

    /// The 1-based line where `oldText` matches once every run of whitespace is collapsed, and that
    /// line's text.
    static func firstLine(matching oldText: String, in bytes: [UInt8]) -> (Int, ArraySlice<UInt8>)? {
        var wanted = Array(oldText.utf8).split(separator: ByteText.newline, omittingEmptySubsequences: false).map(normalize)
        while wanted.first?.isEmpty == true { wanted.removeFirst() }
        while wanted.last?.isEmpty == true { wanted.removeLast() }
        guard !wanted.isEmpty else { return nil }
        let raw = bytes.split(separator: ByteText.newline, omittingEmptySubsequences: false)
        let lines = raw.map(normalize)
        guard lines.count >= wanted.count else { return nil }
        for start in 0...(lines.count - wanted.count) where matches(wanted, lines, at: start) {
            return (start + 1, raw[start])
        }
        return nil
    }

    /// A single wanted line may sit inside a file line; for several, the first must end a line, the
    /// last must start one, and those between must be equal.
    private static func matches(_ wanted: [[UInt8]], _ lines: [[UInt8]], at start: Int) -> Bool {
        if wanted.count == 1 { return !ByteText.occurrences(of: wanted[0], in: lines[start], limit: 1).isEmpty }
        let (first, last) = (wanted[0], wanted[wanted.count - 1])
        guard lines[start].suffix(first.count).elementsEqual(first),
            lines[start + wanted.count - 1].prefix(last.count).elementsEqual(last)
        else { return false }
        for index in 1..<(wanted.count - 1) where lines[start + index] != wanted[index] { return false }
        return true
    }

    /// ASCII whitespace runs collapsed to one space, trimmed at both ends.
    static func normalize(_ line: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(line.count)
        var pendingSpace = false
        for byte in line {
            if byte == 0x20 || (0x09...0x0D).contains(byte) {
                pendingSpace = !output.isEmpty
            } else {
                if pendingSpace { output.append(0x20) }
                pendingSpace = false
                output.append(byte)
            }
        }
        return output
    }
}
