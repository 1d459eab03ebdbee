import AgentSandbox

/// One exact-match replacement, as file_edit and each multi_edit entry describe it.
struct TextEdit: Sendable {
    var oldText: String
    var newText: String
    var replaceAll: Bool
}

/// What applying an edit produced: the new content, how many replacements, and where (byte ranges
/// of the inserted text in the new content, for the numbered excerpt).
struct EditResult {
    var content: [UInt8]
    var replacements: Int
    var regions: [Range<Int>]
    /// The file's encoding, for rendering the excerpt.
    var encoding: TextEncoding = .utf8
}

extension TextEdit {
    /// Lines of context shown around an edited region.
    static let contextLines = 2
    /// Most line numbers listed in an EDIT_NOT_UNIQUE message.
    static let listedLines = 20

    /// Applies the edit to `bytes` (exact, case-sensitive). In a CRLF file, line breaks in
    /// `old_text` / `new_text` are matched and written as `\r\n`, so the file keeps its endings;
    /// both texts are encoded in the file's `encoding`, so it keeps its encoding too.
    func apply(to bytes: [UInt8], encoding: TextEncoding, display: String) throws(ToolError) -> EditResult {
        guard oldText != newText else {
            throw ToolError(.editNoChange, "old_text and new_text are identical, so the edit would change nothing in '\(display)'. Give the replacement text in new_text.")
        }
        let crlf = ByteText.usesCRLF(bytes)
        let old = try encoding.encode(crlf ? ByteText.crlf(oldText) : oldText, field: "old_text", display: display)
        let new = try encoding.encode(crlf ? ByteText.crlf(newText) : newText, field: "new_text", display: display)
        let hits = ByteText.occurrences(of: old, in: bytes)
        if hits.isEmpty {
            throw ToolError(.editNotFound, NearMatch.message(for: oldText, in: bytes, encoding: encoding, display: display))
        }
        if hits.count > 1, !replaceAll {
            let lines = ByteText.lineNumbers(of: Array(hits.prefix(Self.listedLines)), in: bytes)
            let listed = lines.map(String.init).joined(separator: ", ") + (hits.count > lines.count ? ", …" : "")
            throw ToolError(.editNotUnique, "old_text occurs \(hits.count) times in '\(display)' (lines \(listed)). Include more surrounding lines in old_text to pick one occurrence, or set replace_all=true to replace all of them.")
        }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + hits.count * (new.count - old.count))
        var regions: [Range<Int>] = []
        var previous = 0
        for hit in hits {
            output += bytes[previous..<hit]
            regions.append(output.count..<output.count + new.count)
            output += new
            previous = hit + old.count
        }
        output += bytes[previous...]
        return EditResult(content: output, replacements: hits.count, regions: regions, encoding: encoding)
    }
}

extension EditResult {
    /// The edited regions with `TextEdit.contextLines` of context, cat -n numbered. Only the first
    /// `maxRegions` regions are shown (overlapping excerpts merged), each excerpt at most a few KiB
    /// around its region, and rendering stops past about `limit` bytes.
    func excerpt(limit: Int = 16 << 10, maxRegions: Int = 20) -> String {
        var spans: [Range<Int>] = []
        for region in regions.prefix(maxRegions) {
            let start = ByteText.lineStart(before: region.lowerBound, back: TextEdit.contextLines, in: content)
            let last = region.isEmpty ? region.lowerBound : region.upperBound - 1
            let end = ByteText.lineEnd(after: min(last, region.lowerBound + limit), forward: TextEdit.contextLines, in: content)
            if let previous = spans.last, start <= previous.upperBound {
                spans[spans.count - 1] = previous.lowerBound..<max(end, previous.upperBound)
            } else {
                spans.append(start..<end)
            }
        }
        let firstLines = ByteText.lineNumbers(of: spans.map(\.lowerBound), in: content)
        var text = ""
        for (span, line) in zip(spans, firstLines) {
            if text.utf8.count > limit { break }
            if !text.isEmpty { text += "…\n" }
            text += ByteText.numbered(content[span.lowerBound..<min(span.upperBound, span.lowerBound + 2 * limit)], firstLine: line, encoding: encoding)
            if !text.hasSuffix("\n") { text += "\n" }
        }
        if regions.count > maxRegions || text.utf8.count > limit {
            text += "[… \(regions.count) replacements in all; not every region is shown …]\n"
        }
        return text
    }
}
