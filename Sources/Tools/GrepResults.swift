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
        let rank = pathRanks(names)
        let lines = reader.lines
        // ripgrep prints a file's lines together: group runs of one file, then order files by path bytes.
        var runs: [(rank: Int, lines: Range<Int>)] = []
        for (index, line) in lines.enumerated() {
            if let last = runs.last, last.rank == rank[line.file], last.lines.upperBound == index {
                runs[runs.count - 1].lines = last.lines.lowerBound..<(index + 1)
            } else {
                runs.append((rank[line.file], index..<(index + 1)))
            }
        }
        runs.sort { a, b in a.rank != b.rank ? a.rank < b.rank : a.lines.lowerBound < b.lines.lowerBound }
        let encoded = reader.texts.withUnsafeBufferPointer { texts in
            var writer = MatchWriter(
                texts: texts, names: names.map(JSONArrayWriter.escaped), contextLines: contextLines,
                capacity: texts.count * (contextLines > 0 ? 3 : 1) + lines.count * 64)
            var group: [RipgrepReader.Line] = []
            var next = 0
            while next < runs.count {
                let file = runs[next].rank
                group.removeAll(keepingCapacity: true)
                group += lines[runs[next].lines]
                next += 1
                while next < runs.count, runs[next].rank == file {
                    group += lines[runs[next].lines]
                    next += 1
                }
                if !zip(group, group.dropFirst()).allSatisfy({ $0.number <= $1.number }) {
                    group.sort { $0.number < $1.number }
                }
                writer.writeMatches(of: group)
            }
            return writer.array.finish()
        }
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

    /// For each path, its place in byte order (equal paths share one): sorting by rank then costs
    /// integer comparisons only.
    static func pathRanks(_ paths: [String]) -> [Int] {
        let keys = paths.map { Array($0.utf8) }
        let order = keys.indices.sorted { a, b in
            keys[a].withUnsafeBufferPointer { x in keys[b].withUnsafeBufferPointer { y in bytesOrder(x, y) < 0 } }
        }
        var rank = [Int](repeating: 0, count: paths.count)
        for (position, index) in order.enumerated() {
            rank[index] = position > 0 && keys[order[position - 1]] == keys[index] ? rank[order[position - 1]] : position
        }
        return rank
    }

    /// Byte order of the UTF-8 forms (memcmp; `utf8.lexicographicallyPrecedes` is generic and slow).
    static func utf8Precedes(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in b.withUTF8 { y in bytesOrder(x, y) < 0 } }
    }

    /// Negative, zero or positive as `x` sorts before, equal or after `y` (memcmp, then length).
    static func bytesOrder(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int {
        let shared = min(x.count, y.count)
        let order = shared == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, shared)
        return order != 0 ? Int(order) : x.count - y.count
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

/// Writes `content` mode's match objects, one `JSONArrayWriter.element` each.
private struct MatchWriter {
    let texts: UnsafeBufferPointer<UInt8>
    /// File names as JSON string content, by file index.
    let names: [[UInt8]]
    let contextLines: Int
    var array: JSONArrayWriter

    init(texts: UnsafeBufferPointer<UInt8>, names: [[UInt8]], contextLines: Int, capacity: Int) {
        self.texts = texts
        self.names = names
        self.contextLines = contextLines
        array = JSONArrayWriter(capacity: capacity)
    }

    /// The matches among one file's lines (ordered by line number), each with its context.
    mutating func writeMatches(of lines: [RipgrepReader.Line]) {
        for (index, line) in lines.enumerated() where line.isMatch {
            var context = index..<index
            if contextLines > 0 {
                let window = (line.number - contextLines)...(line.number + line.span - 1 + contextLines)
                var first = index
                while first > 0, window.contains(lines[first - 1].number) { first -= 1 }
                var end = index + 1
                while end < lines.count, window.contains(lines[end].number) { end += 1 }
                context = first..<end
            }
            write(line, context: lines[context])
        }
    }

    private mutating func write(_ line: RipgrepReader.Line, context: ArraySlice<RipgrepReader.Line>) {
        let name = names[line.file]
        var maximum = 72 + line.text.count + name.count
        for neighbour in context { maximum += 48 + neighbour.text.count }
        let texts = self.texts
        name.withUnsafeBufferPointer { name in
            array.element(maximumBytes: maximum) { out in
                out.syntax(#"{"content":""#)
                out.escaped(UnsafeBufferPointer(rebasing: texts[line.text]))
                out.syntax(#"","context":["#)
                var first = true
                for neighbour in context where neighbour.number != line.number {
                    out.syntax(first ? #"{"content":""# : #",{"content":""#)
                    first = false
                    out.escaped(UnsafeBufferPointer(rebasing: texts[neighbour.text]))
                    out.syntax(#"","line":"#)
                    out.integer(neighbour.number)
                    out.syntax("}")
                }
                out.syntax(#"],"file":""#)
                out.escaped(name)
                out.syntax(#"","line":"#)
                out.integer(line.number)
                out.syntax("}")
            }
        }
    }
}
