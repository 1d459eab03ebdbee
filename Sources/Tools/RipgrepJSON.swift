import AgentSandbox
import Foundation

/// Reads `rg --json` output: one JSON message per line (`begin`, `match`, `context`, `end`, `summary`).
///
/// Only `match` and (when context is asked for) `context` lines are decoded; the others are
/// recognised by their prefix and skipped, so the cost is proportional to what is returned.
/// Lines cut by the output cap fail to decode and are ignored.
struct RipgrepJSON {
    /// One searched line as ripgrep reports it.
    struct Line {
        let file: String
        let number: Int
        let text: String
        let isMatch: Bool
    }

    /// A `{"text": …}` or `{"bytes": base64}` value (ripgrep's encoding of non-UTF-8 data) as text.
    static func text(of value: JSONValue?) -> String? {
        if let text = value?["text"]?.stringValue { return text }
        guard let bytes = value?["bytes"]?.stringValue, let decoded = Foundation.Data(base64Encoded: bytes) else { return nil }
        return String(decoding: decoded, as: UTF8.self)
    }

    /// Matching lines (at most `limit`) and, when `withContext`, the context lines ripgrep printed,
    /// in output order; the number of match messages seen (returned or not); and the number of
    /// matching lines in ripgrep's summary, if present (the total when the output was cut).
    static func parse(_ output: String, limit: Int, withContext: Bool) -> (lines: [Line], seen: Int, summaryLines: Int?) {
        var lines: [Line] = []
        var matches = 0
        var total: Int?
        for raw in output.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
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
            guard let message = try? JSONParser.parse(raw), let data = message["data"],
                let path = text(of: data["path"]), let number = data["line_number"]?.doubleValue, let line = text(of: data["lines"])
            else { continue }
            lines.append(Line(file: path, number: Int(number), text: line, isMatch: isMatch))
        }
        return (lines, matches, total)
    }

    private static let matchPrefix = Array(#"{"type":"match""#.utf8)
    private static let contextPrefix = Array(#"{"type":"context""#.utf8)
    /// ripgrep writes its final summary as `{"data":{"elapsed_total":…},"type":"summary"}`.
    private static let summaryPrefix = Array(#"{"data":{"elapsed_total""#.utf8)
}
