#if canImport(Glibc)
import Glibc
#endif
import AgentSandbox

/// Turns ripgrep's output into the `grep` envelope for each output mode.
///
/// Results are ordered by file path (byte order), then line; ripgrep's own file order depends on
/// its threads. `total_matches` counts every match ripgrep found, even past `max_results`.
enum GrepResults {
    /// Longest line content returned, in characters; longer lines are cut with a marker.
    static let maxLineLength = 2000

    /// `content` mode: `[{file, line, content, context: [{line, content}]}]`. A match's context is
    /// every line ripgrep printed within `contextLines` of it (context lines and neighbouring matches).
    static func content(_ output: String, limit: Int, contextLines: Int, stripDotSlash: Bool, outputCut: Bool) -> Envelope {
        let parsed = RipgrepJSON.parse(output, limit: limit, withContext: contextLines > 0, complete: !outputCut)
        // ripgrep prints a file's lines together: group runs of one file, then order files by path bytes.
        var runs: [(file: String, lines: Range<Int>)] = []
        for (index, line) in parsed.lines.enumerated() {
            if let last = runs.last, last.file == line.file, last.lines.upperBound == index {
                runs[runs.count - 1].lines = last.lines.lowerBound..<(index + 1)
            } else {
                runs.append((line.file, index..<(index + 1)))
            }
        }
        runs.sort { a, b in
            let order = utf8Order(a.file, b.file)
            return order != 0 ? order < 0 : a.lines.lowerBound < b.lines.lowerBound
        }
        var matches: [JSONValue] = []
        var next = 0
        while next < runs.count {
            let file = runs[next].file
            var group = Array(parsed.lines[runs[next].lines])
            next += 1
            while next < runs.count, runs[next].file == file {
                group += parsed.lines[runs[next].lines]
                next += 1
            }
            let lines = group.sorted { $0.number < $1.number }
            let name = JSONValue.string(clean(file, stripDotSlash))
            for (index, line) in lines.enumerated() where line.isMatch {
                var context: [JSONValue] = []
                if contextLines > 0 {
                    let last = line.number + max(0, lineCount(line.text) - 1)
                    let window = (line.number - contextLines)...(last + contextLines)
                    var first = index
                    while first > 0, window.contains(lines[first - 1].number) { first -= 1 }
                    var end = index + 1
                    while end < lines.count, window.contains(lines[end].number) { end += 1 }
                    for neighbour in lines[first..<end] where neighbour.number != line.number {
                        context.append(["line": .number(Double(neighbour.number)), "content": .string(text(neighbour.text))])
                    }
                }
                matches.append(["file": name, "line": .number(Double(line.number)), "content": .string(text(line.text)), "context": .array(context)])
            }
        }
        // Every match message is counted; only when the output cap cut some does the summary decide.
        let total = outputCut ? max(parsed.summaryLines ?? parsed.seen, parsed.seen) : parsed.seen
        return envelope(matches, total: total)
    }

    /// `files_with_matches` mode: paths (`rg --files-with-matches --null`).
    static func files(_ output: String, limit: Int, stripDotSlash: Bool) -> Envelope {
        let files = output.split(separator: "\0", omittingEmptySubsequences: true)
            .map { clean(String($0), stripDotSlash) }
            .sorted(by: utf8Precedes)
        var result = envelope(files.prefix(limit).map(JSONValue.string), total: files.count)
        result.extras["total_files"] = .number(Double(files.count))
        return result
    }

    /// `count` mode: `[{file, count}]` of matching lines per file (`rg --count --null`).
    static func counts(_ output: String, limit: Int, stripDotSlash: Bool) -> Envelope {
        var entries: [(String, Int)] = []
        for line in output.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            guard let separator = line.lastIndex(of: 0), let count = Int(String(decoding: line[line.index(after: separator)...], as: UTF8.self)) else { continue }
            entries.append((clean(String(decoding: line[..<separator], as: UTF8.self), stripDotSlash), count))
        }
        entries.sort { utf8Precedes($0.0, $1.0) }
        let total = entries.reduce(0) { $0 + $1.1 }
        var result = envelope(entries.prefix(limit).map { ["file": .string($0.0), "count": .number(Double($0.1))] }, total: total)
        result.extras["total_files"] = .number(Double(entries.count))
        result.extras["truncated"] = .bool(entries.count > limit)
        return result
    }

    private static func envelope(_ matches: [JSONValue], total: Int) -> Envelope {
        var envelope = Envelope(matches: matches)
        envelope.extras["total_matches"] = .number(Double(total))
        envelope.extras["truncated"] = .bool(total > matches.count)
        return envelope
    }

    /// Byte order of the UTF-8 forms (memcmp; `utf8.lexicographicallyPrecedes` is generic and slow).
    static func utf8Precedes(_ a: String, _ b: String) -> Bool { utf8Order(a, b) < 0 }

    /// Negative, zero or positive as `a`'s UTF-8 bytes sort before, equal or after `b`'s.
    static func utf8Order(_ a: String, _ b: String) -> Int {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let shared = min(x.count, y.count)
                let order = shared == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, shared)
                return order != 0 ? Int(order) : x.count - y.count
            }
        }
    }

    private static func clean(_ path: String, _ stripDotSlash: Bool) -> String {
        stripDotSlash && path.hasPrefix("./") ? String(path.dropFirst(2)) : path
    }

    /// The line without its terminator, cut at `maxLineLength` characters.
    private static func text(_ raw: String) -> String {
        let utf8 = raw.utf8
        var end = utf8.endIndex
        for terminator in [UInt8(ascii: "\n"), UInt8(ascii: "\r")] where end > utf8.startIndex && utf8[utf8.index(before: end)] == terminator {
            end = utf8.index(before: end)
        }
        let line = raw[..<end]
        if line.utf8.count > maxLineLength, line.count > maxLineLength { return line.prefix(maxLineLength) + " […line cut at \(maxLineLength) characters]" }
        return String(line)
    }

    private static func lineCount(_ text: String) -> Int {
        var count = text.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        if !text.hasSuffix("\n") { count += 1 }
        return max(count, 1)
    }
}
