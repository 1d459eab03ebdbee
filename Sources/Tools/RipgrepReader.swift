#if canImport(Glibc)
import Glibc
#endif
import AgentSandbox
import Foundation
import Synchronization
import SandboxKernel

/// Reads `rg --json` output as it arrives: one JSON message per line (`begin`, `match`, `context`,
/// `end`, `summary`).
///
/// Only `match` and (when context is asked for) `context` messages are read, and of those only
/// `data.path`, `data.lines` and `data.line_number`, with a `JSONCursor`; the other messages are
/// recognised by their prefix and skipped. A line's text is kept as ripgrep wrote it (JSON string
/// content, checked with `JSONArrayWriter.isStringContent`) in one buffer, to be copied into the
/// response without decoding and encoding it again. ripgrep prints a file's messages together, so a
/// path repeated on consecutive messages is decoded once.
///
/// Every match is counted; at most `limit` are kept, with the context lines around them, and no more
/// than `retainLimit` bytes of text in all.
struct RipgrepReader {
    /// One searched line as ripgrep reports it (plain values only: copying one costs no reference counting).
    struct Line {
        /// Index into `files`.
        var file: Int
        var number: Int
        /// The line without its terminator, cut at `GrepResults.maxLineLength` characters, as JSON string
        /// content (escaped): this range of `texts`.
        var text: Range<Int>
        var isMatch: Bool
        /// Lines the text spans (a multiline match spans several); counted only when context is kept.
        var span: Int
    }

    let limit: Int
    let contextLines: Int
    let retainLimit: Int
    private var withContext: Bool { contextLines > 0 }

    /// Paths as ripgrep printed them, decoded.
    private(set) var files: [String] = []
    /// Kept lines in output order.
    private(set) var lines: [Line] = []
    /// The texts of `lines`, escaped: as ripgrep wrote them when they were safe to copy and short,
    /// else decoded (and cut) and escaped again.
    private(set) var texts: [UInt8] = []
    /// Match messages seen, kept or not.
    private(set) var seen = 0
    /// Whether something within `limit` is not listed: it came past `retainLimit` bytes, or in a
    /// message longer than `maximumMessage`.
    private(set) var incomplete = false

    /// A line whose newline has not arrived yet.
    private var pending: [UInt8] = []
    /// The pending line is past `maximumMessage`: its bytes are dropped until its newline.
    private var skippingLongMessage = false
    /// The raw path value of the last message read, and its index in `files`.
    private var lastPath: (raw: [UInt8], file: Int)?
    /// The last kept match: its file and last line (the end of its trailing context window).
    private var lastKept: (file: Int, lastLine: Int)?

    /// Longest message read (bytes). ripgrep writes a line of text twice in a match message (the
    /// line, then the matched part), so the default allows lines of several MiB; longer ones are
    /// counted but not listed.
    let maximumMessage: Int

    init(limit: Int, contextLines: Int, retainLimit: Int, maximumMessage: Int = 32 << 20) {
        self.limit = limit
        self.contextLines = contextLines
        self.retainLimit = retainLimit
        self.maximumMessage = maximumMessage
    }

    /// Reads the complete lines in `bytes` (with any pending start of a line), keeping an incomplete
    /// last line for the next call.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        let bytes = bytes.assumingMemoryBound(to: UInt8.self)
        var start = 0
        while start < bytes.count {
            guard let newline = memchr(bytes.baseAddress! + start, 0x0A, bytes.count - start) else {
                keepPending(UnsafeBufferPointer(rebasing: bytes[start...]))
                return
            }
            let end = UnsafeRawPointer(newline) - UnsafeRawPointer(bytes.baseAddress!)
            let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
            start = end + 1
            if skippingLongMessage {
                skippingLongMessage = false
            } else if pending.count + line.count > maximumMessage {
                countLongMessage(startingWith: line)
            } else if pending.isEmpty {
                read(line)
            } else {
                pending.append(contentsOf: line)
                pending.withUnsafeBufferPointer { read($0) }
                pending.removeAll(keepingCapacity: pending.count <= 1 << 20)
            }
        }
    }

    /// Reads a last line that ended without a newline.
    mutating func finish() {
        if !pending.isEmpty, !skippingLongMessage { pending.withUnsafeBufferPointer { read($0) } }
        pending = []
    }

    private mutating func keepPending(_ part: UnsafeBufferPointer<UInt8>) {
        guard !skippingLongMessage else { return }
        if pending.count + part.count > maximumMessage {
            countLongMessage(startingWith: part)
            skippingLongMessage = true
        } else {
            pending.append(contentsOf: part)
        }
    }

    /// Drops the message being read (the pending bytes, then `part`), counting it if it is a match.
    private mutating func countLongMessage(startingWith part: UnsafeBufferPointer<UInt8>) {
        if (Array(pending.prefix(32)) + Array(part.prefix(32))).starts(with: Self.matchPrefix) {
            seen += 1
            if seen <= limit { incomplete = true }
        }
        pending = []
    }

    private mutating func read(_ raw: UnsafeBufferPointer<UInt8>) {
        guard !raw.isEmpty else { return }
        let isMatch = raw.starts(with: Self.matchPrefix)
        if isMatch {
            seen += 1
        } else if !(withContext && raw.starts(with: Self.contextPrefix)) {
            return
        }
        // Past the limit, only the trailing context of the last kept match is still wanted (a later
        // match inside it is kept as a context line).
        let wanted = isMatch ? seen <= limit : seen < limit
        guard wanted || (withContext && lastKept != nil) else { return }
        guard texts.count + lines.count * MemoryLayout<Line>.stride <= retainLimit else {
            incomplete = true
            return
        }
        // A message that is not read whole, or not kept, leaves no text behind.
        let mark = texts.count
        guard var line = try? message(raw, isMatch: isMatch) else {
            texts.removeSubrange(mark...)
            return
        }
        if !wanted {
            guard let lastKept, lastKept.file == line.file, line.number <= lastKept.lastLine + contextLines else {
                texts.removeSubrange(mark...)
                return
            }
            line.isMatch = false
        }
        if line.isMatch { lastKept = (line.file, line.number + line.span - 1) }
        lines.append(line)
    }

    /// The fields of one `match` or `context` message (its text appended to `texts`); throws when the
    /// line is not such a message, maybe after appending.
    private mutating func message(_ raw: UnsafeBufferPointer<UInt8>, isMatch: Bool) throws -> Line {
        var cursor = JSONCursor(raw)
        var file: Int?
        var number: Double?
        var text: Range<Int>?
        try cursor.beginObject()
        reading: while let key = try cursor.nextKey() {
            guard Self.same(key, Self.dataKey) else { try cursor.skip(); continue }
            try cursor.beginObject()
            while let field = try cursor.nextKey() {
                if Self.same(field, Self.pathKey) {
                    let start = cursor.offset
                    try cursor.skip()
                    file = try self.file(UnsafeBufferPointer(rebasing: raw[start..<cursor.offset]))
                } else if Self.same(field, Self.linesKey) {
                    text = try lineText(&cursor)
                } else if Self.same(field, Self.lineNumberKey) {
                    number = try cursor.number()
                } else {
                    try cursor.skip()
                }
                // The rest (offsets, submatches) is not needed.
                if file != nil, number != nil, text != nil { break reading }
            }
        }
        guard let file, let number, let text else { throw CocoaError(.coderReadCorrupt) }
        return Line(file: file, number: Int(number), text: text, isMatch: isMatch, span: withContext ? Self.span(text, in: texts) : 1)
    }

    /// The index in `files` of a raw `{"text": …}` / `{"bytes": …}` path value.
    private mutating func file(_ value: UnsafeBufferPointer<UInt8>) throws -> Int {
        if let lastPath, lastPath.raw.withUnsafeBufferPointer({ Self.same($0, value) }) { return lastPath.file }
        var inner = JSONCursor(value)
        let path = try Self.decodedText(&inner)
        files.append(path)
        lastPath = (Array(value), files.count - 1)
        return files.count - 1
    }

    /// A `lines` value, appended to `texts` (escaped): as ripgrep wrote it when that is safe and short,
    /// else decoded, cut and escaped again.
    private mutating func lineText(_ cursor: inout JSONCursor) throws -> Range<Int> {
        let start = texts.count
        var found = false
        try cursor.beginObject()
        while let key = try cursor.nextKey() {
            if Self.same(key, Self.textKey), !found {
                var decoder = cursor  // still at the string, should it need decoding
                let escaped = Self.withoutTerminator(try cursor.rawString())
                if escaped.count <= GrepResults.maxLineLength, JSONArrayWriter.isStringContent(escaped) {
                    texts.append(contentsOf: escaped)
                } else {
                    // Long (to be cut by characters) or not safe to copy as it is.
                    texts.append(contentsOf: JSONArrayWriter.escaped(GrepResults.lineText(try decoder.string())))
                }
                found = true
            } else if Self.same(key, Self.bytesKey), !found {
                texts.append(contentsOf: JSONArrayWriter.escaped(GrepResults.lineText(Self.base64Text(try cursor.string()) ?? "")))
                found = true
            } else {
                try cursor.skip()
            }
        }
        guard found else { throw CocoaError(.coderReadCorrupt) }
        return start..<texts.count
    }

    /// A `{"text": …}` or `{"bytes": base64}` value (ripgrep's encoding of non-UTF-8 data) as text;
    /// throws when it is neither.
    static func decodedText(_ cursor: inout JSONCursor) throws -> String {
        var result: String?
        try cursor.beginObject()
        while let key = try cursor.nextKey() {
            if same(key, textKey) {
                result = try cursor.string()
            } else if same(key, bytesKey), result == nil {
                result = base64Text(try cursor.string())
            } else {
                try cursor.skip()
            }
        }
        guard let result else { throw CocoaError(.coderReadCorrupt) }
        return result
    }

    /// ripgrep's base64 `bytes` (data that is not UTF-8) as text, invalid sequences replaced; nil when
    /// it is not base64.
    private static func base64Text(_ encoded: String) -> String? {
        Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Escaped text without a final `\n` (then `\r`) escape. An `n` ends an escape only when an odd
    /// number of backslashes stands before it (`\\n` is a backslash, then the letter n).
    static func withoutTerminator(_ escaped: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var end = escaped.count
        for letter in [UInt8(ascii: "n"), UInt8(ascii: "r")] where end >= 2 && escaped[end - 1] == letter {
            var backslashes = 0
            while end - 2 - backslashes >= 0, escaped[end - 2 - backslashes] == UInt8(ascii: "\\") { backslashes += 1 }
            guard backslashes % 2 == 1 else { break }
            end -= 2
        }
        return UnsafeBufferPointer(rebasing: escaped[..<end])
    }

    /// How many lines an escaped text spans: its `\n` escapes plus one.
    private static func span(_ text: Range<Int>, in texts: [UInt8]) -> Int {
        var count = 1
        var index = text.lowerBound
        while index < text.upperBound - 1 {
            if texts[index] == UInt8(ascii: "\\") {
                if texts[index + 1] == UInt8(ascii: "n") { count += 1 }
                index += 2
            } else {
                index += 1
            }
        }
        return count
    }

    /// Whether two byte strings are equal (memcmp; the generic `elementsEqual` is several times slower).
    private static func same(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }

    private static func same(_ a: UnsafeBufferPointer<UInt8>, _ b: [UInt8]) -> Bool {
        b.withUnsafeBufferPointer { same(a, $0) }
    }

    private static let dataKey = Array("data".utf8), pathKey = Array("path".utf8), linesKey = Array("lines".utf8)
    private static let lineNumberKey = Array("line_number".utf8), textKey = Array("text".utf8), bytesKey = Array("bytes".utf8)
    static let matchPrefix = Array(#"{"type":"match""#.utf8)
    private static let contextPrefix = Array(#"{"type":"context""#.utf8)
}

/// ripgrep's stdout, read by a `RipgrepReader` as the launcher receives it.
final class RipgrepStream: OutputSink {
    private let reader: Mutex<RipgrepReader>

    init(_ reader: RipgrepReader) { self.reader = Mutex(reader) }

    func consume(_ bytes: UnsafeRawBufferPointer) {
        reader.withLock { $0.feed(bytes) }
    }

    /// The reader, once ripgrep is done (a last line without a newline read too).
    func finish() -> RipgrepReader {
        reader.withLock { reader in
            reader.finish()
            return reader
        }
    }
}
