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

    /// `content` mode: `[{file, line, content, context: [{line, content}]}]`, written straight to JSON
    /// with the texts as ripgrep escaped them. A match's context is every line ripgrep printed within
    /// `contextLines` of it (context lines and neighbouring matches).
    static func content(_ reader: RipgrepReader, contextLines: Int, stripDotSlash: Bool) -> Envelope {
        let names = reader.files.map { clean($0, stripDotSlash) }
        let lines = reader.lines
        // ripgrep prints a file's lines together: group runs of one file, then order files by path bytes.
        var runs: [(file: Int, lines: Range<Int>)] = []
        for (index, line) in lines.enumerated() {
            if let last = runs.last, last.file == line.file, last.lines.upperBound == index {
                runs[runs.count - 1].lines = last.lines.lowerBound..<(index + 1)
            } else {
                runs.append((line.file, index..<(index + 1)))
            }
        }
        runs.sort { a, b in
            let order = utf8Order(names[a.file], names[b.file])
            return order != 0 ? order < 0 : a.lines.lowerBound < b.lines.lowerBound
        }
        var array = JSONArrayWriter(capacity: reader.texts.count * (contextLines > 0 ? 3 : 1) + lines.count * 48)
        reader.texts.withUnsafeBufferPointer { texts in
            func write(_ text: RipgrepReader.Text) {
                switch text {
                case .escaped(let range): array.escapedString(UnsafeBufferPointer(rebasing: texts[range]))
                case .decoded(let string): array.string(string)
                }
            }
            var next = 0
            while next < runs.count {
                let name = names[runs[next].file]
                var group = Array(lines[runs[next].lines])
                next += 1
                while next < runs.count, names[runs[next].file] == name {
                    group += lines[runs[next].lines]
                    next += 1
                }
                if !zip(group, group.dropFirst()).allSatisfy({ $0.number <= $1.number }) {
                    group.sort { $0.number < $1.number }
                }
                for (index, line) in group.enumerated() where line.isMatch {
                    array.nextElement()
                    array.syntax(#"{"content":"#)
                    write(line.text)
                    array.syntax(#","context":["#)
                    if contextLines > 0 {
                        let window = (line.number - contextLines)...(line.number + line.span - 1 + contextLines)
                        var first = index
                        while first > 0, window.contains(group[first - 1].number) { first -= 1 }
                        var end = index + 1
                        while end < group.count, window.contains(group[end].number) { end += 1 }
                        var written = 0
                        for neighbour in group[first..<end] where neighbour.number != line.number {
                            if written > 0 { array.syntax(",") }
                            written += 1
                            array.syntax(#"{"content":"#)
                            write(neighbour.text)
                            array.syntax(#","line":"#)
                            array.integer(neighbour.number)
                            array.syntax("}")
                        }
                    }
                    array.syntax(#"],"file":"#)
                    array.string(name)
                    array.syntax(#","line":"#)
                    array.integer(line.number)
                    array.syntax("}")
                }
            }
        }
        let encoded = array.finish()
        var envelope = Envelope()
        envelope.encodedMatches = encoded
        envelope.extras["total_matches"] = .number(Double(reader.seen))
        envelope.extras["truncated"] = .bool(reader.seen > encoded.count || reader.incomplete)
        return envelope
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

    /// A decoded line without its terminator, cut at `maxLineLength` characters.
    static func lineText(_ raw: String) -> String {
        let utf8 = raw.utf8
        var end = utf8.endIndex
        for terminator in [UInt8(ascii: "\n"), UInt8(ascii: "\r")] where end > utf8.startIndex && utf8[utf8.index(before: end)] == terminator {
            end = utf8.index(before: end)
        }
        let line = raw[..<end]
        if line.utf8.count > maxLineLength, line.count > maxLineLength { return line.prefix(maxLineLength) + " […line cut at \(maxLineLength) characters]" }
        return String(line)
    }
}
