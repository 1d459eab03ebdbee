#if canImport(Glibc)
import Glibc
#endif
import AgentSandbox
import Foundation

/// Reads `rg --json` output: one JSON message per line (`begin`, `match`, `context`, `end`, `summary`).
///
/// Only `match` and (when context is asked for) `context` lines are decoded, and of those only
/// `data.path`, `data.lines` and `data.line_number`, with a `JSONCursor` (no dictionary per line);
/// the other messages are recognised by their prefix and skipped, so the cost is proportional to
/// what is returned. ripgrep prints a file's messages together, so a path repeated on consecutive
/// lines is decoded once. Lines cut by the output cap fail to decode and are ignored.
struct RipgrepJSON {
    /// One searched line as ripgrep reports it.
    struct Line {
        let file: String
        let number: Int
        let text: String
        let isMatch: Bool
    }

    /// Matching lines (at most `limit`) and, when `withContext`, the context lines ripgrep printed,
    /// in output order; the number of match messages seen (returned or not); and the number of
    /// matching lines in ripgrep's summary, if present (the total when the output was cut).
    ///
    /// When `complete` (the output was not cut), a message is read only up to its last needed field.
    static func parse(_ output: String, limit: Int, withContext: Bool, complete: Bool) -> (lines: [Line], seen: Int, summaryLines: Int?) {
        var output = output
        return output.withUTF8 { (bytes: UnsafeBufferPointer<UInt8>) -> (lines: [Line], seen: Int, summaryLines: Int?) in
            parse(bytes, limit: limit, withContext: withContext, complete: complete)
        }
    }

    private typealias Path = (raw: UnsafeBufferPointer<UInt8>, text: String)

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int, withContext: Bool, complete: Bool) -> (lines: [Line], seen: Int, summaryLines: Int?) {
        var lines: [Line] = []
        var matches = 0
        var total: Int?
        var lastPath: Path?
        var start = 0
        while start < bytes.count {
            var end = bytes.count
            if let newline = memchr(bytes.baseAddress! + start, 0x0A, bytes.count - start) {
                end = UnsafeRawPointer(newline) - UnsafeRawPointer(bytes.baseAddress!)
            }
            let raw = UnsafeBufferPointer(rebasing: bytes[start..<end])
            start = end + 1
            if raw.isEmpty { continue }
            let isMatch = raw.starts(with: matchPrefix)
            if isMatch {
                matches += 1
                if matches > limit { continue }
            } else if !(withContext && raw.starts(with: contextPrefix)) {
                if raw.starts(with: summaryPrefix), let summary = try? JSONParser.parse(raw),
                    let matched = summary["data"]?["stats"]?["matched_lines"]?.doubleValue
                {
                    total = Int(matched)
                }
                continue
            }
            guard let message = try? Message(raw, lastPath: lastPath, complete: complete) else { continue }
            lastPath = message.path
            lines.append(Line(file: message.path.text, number: message.number, text: message.text, isMatch: isMatch))
        }
        return (lines, matches, total)
    }

    /// The fields of one `match` or `context` message.
    private struct Message {
        var path: Path
        var number: Int
        var text: String

        /// Throws when the line is not a message with a path, a line number and the lines (and, unless
        /// `complete` says every line is whole, when it is not valid to its end).
        init(_ raw: UnsafeBufferPointer<UInt8>, lastPath: Path?, complete: Bool) throws {
            var cursor = JSONCursor(raw)
            var path: Path?
            var number: Double?
            var text: String?
            try cursor.beginObject()
            reading: while let key = try cursor.nextKey() {
                guard same(key, dataKey) else { try cursor.skip(); continue }
                try cursor.beginObject()
                while let field = try cursor.nextKey() {
                    if same(field, pathKey) {
                        let start = cursor.offset
                        try cursor.skip()
                        let value = UnsafeBufferPointer(rebasing: raw[start..<cursor.offset])
                        if let lastPath, same(lastPath.raw, value) {
                            path = (value, lastPath.text)
                        } else {
                            var inner = JSONCursor(value)
                            path = (value, try RipgrepJSON.text(&inner))
                        }
                    } else if same(field, linesKey) {
                        text = try RipgrepJSON.text(&cursor)
                    } else if same(field, lineNumberKey) {
                        number = try cursor.number()
                    } else {
                        try cursor.skip()
                    }
                    // The rest (offsets, submatches) is not needed.
                    if complete, path != nil, number != nil, text != nil { break reading }
                }
            }
            guard let path, let number, let text else { throw CocoaError(.coderReadCorrupt) }
            self.path = path
            self.number = Int(number)
            self.text = text
        }
    }

    /// A `{"text": …}` or `{"bytes": base64}` value (ripgrep's encoding of non-UTF-8 data) as text;
    /// throws when it is neither.
    static func text(_ cursor: inout JSONCursor) throws -> String {
        var result: String?
        try cursor.beginObject()
        while let key = try cursor.nextKey() {
            if same(key, textKey) {
                result = try cursor.string()
            } else if same(key, bytesKey), result == nil {
                let encoded = try cursor.string()
                result = Foundation.Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) }
            } else {
                try cursor.skip()
            }
        }
        guard let result else { throw CocoaError(.coderReadCorrupt) }
        return result
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
    private static let matchPrefix = Array(#"{"type":"match""#.utf8)
    private static let contextPrefix = Array(#"{"type":"context""#.utf8)
    /// ripgrep writes its final summary as `{"data":{"elapsed_total":…},"type":"summary"}`.
    private static let summaryPrefix = Array(#"{"data":{"elapsed_total""#.utf8)
}
