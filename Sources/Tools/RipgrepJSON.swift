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

    /// A `{"text": …}` or `{"bytes": base64}` value (ripgrep's encoding of non-UTF-8 data).
    struct Data: Decodable {
        let text: String?
        let bytes: String?

        var string: String {
            if let text { return text }
            guard let bytes, let decoded = Foundation.Data(base64Encoded: bytes) else { return "" }
            return String(decoding: decoded, as: UTF8.self)
        }
    }

    private struct Message: Decodable {
        struct Body: Decodable {
            let path: Data?
            let lines: Data?
            let lineNumber: Int?
            enum CodingKeys: String, CodingKey {
                case path, lines
                case lineNumber = "line_number"
            }
        }
        let data: Body
    }

    private struct Summary: Decodable {
        struct Body: Decodable {
            struct Stats: Decodable {
                let matchedLines: Int
                enum CodingKeys: String, CodingKey { case matchedLines = "matched_lines" }
            }
            let stats: Stats
        }
        let data: Body
    }

    /// Matching lines (at most `limit`) and, when `withContext`, the context lines ripgrep printed,
    /// in output order; the number of match messages seen (returned or not); and the number of
    /// matching lines in ripgrep's summary, if present (the total when the output was cut).
    static func parse(_ output: String, limit: Int, withContext: Bool) -> (lines: [Line], seen: Int, summaryLines: Int?) {
        let decoder = JSONDecoder()
        var lines: [Line] = []
        var matches = 0
        var total: Int?
        for raw in output.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            let isMatch = raw.starts(with: matchPrefix)
            if isMatch {
                matches += 1
                if matches > limit { continue }
            } else if !(withContext && raw.starts(with: contextPrefix)) {
                if raw.starts(with: summaryPrefix) {
                    total = (try? decoder.decode(Summary.self, from: Foundation.Data(raw)))?.data.stats.matchedLines ?? total
                }
                continue
            }
            guard let message = try? decoder.decode(Message.self, from: Foundation.Data(raw)),
                let path = message.data.path, let number = message.data.lineNumber, let text = message.data.lines
            else { continue }
            lines.append(Line(file: path.string, number: number, text: text.string, isMatch: isMatch))
        }
        return (lines, matches, total)
    }

    private static let matchPrefix = Array(#"{"type":"match""#.utf8)
    private static let contextPrefix = Array(#"{"type":"context""#.utf8)
    /// ripgrep writes its final summary as `{"data":{"elapsed_total":…},"type":"summary"}`.
    private static let summaryPrefix = Array(#"{"data":{"elapsed_total""#.utf8)
}
