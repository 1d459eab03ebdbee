import AgentSandbox
import Foundation
import Testing
@testable import Tools

/// `RipgrepReader` (a cursor reading only the needed fields, fed in chunks as the launcher reads
/// them) against a plain reading of every message with `JSONParser`, on real `rg --json` output for
/// awkward files.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/rg"), "needs ripgrep"))
struct RipgrepReaderTests {
    @Test func readsWhatAFullParseReadsInAnyChunking() throws {
        let root = try awkwardTree()
        defer { try? FileManager.default.removeItem(atPath: root) }
        for context in [0, 1] {
            let output = try ripgrep(in: root, ["--json", "--context", String(context), "-e", "answer", "."])
            let reference = referenceParse(output, withContext: context > 0)
            for chunk in [1, 7, 4096, output.count] {
                for limit in [1, 3, 1000] {
                    let reader = read(output, chunk: chunk, limit: limit, context: context)
                    #expect(reader.seen == reference.filter(\.isMatch).count)
                    #expect(!reader.incomplete)
                    #expect(reader.lines.map { Flat($0, reader) } == kept(reference, limit: limit, context: context),
                            "context \(context) chunk \(chunk) limit \(limit)")
                }
            }
        }
    }

    @Test func countsButDoesNotListAMessageOverTheSizeCap() throws {
        let root = try awkwardTree()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let long = String(repeating: "x", count: 5000)
        try "\(long) answer\n".write(toFile: "\(root)/zz-long.txt", atomically: false, encoding: .utf8)
        let output = try ripgrep(in: root, ["--json", "-e", "answer", "."])
        let reference = referenceParse(output, withContext: false)
        for chunk in [1000, output.count] {
            let reader = read(output, chunk: chunk, limit: 1000, context: 0, maximumMessage: 4096)
            #expect(reader.seen == reference.count, "the long line is still counted")
            #expect(reader.incomplete)
            #expect(reader.lines.map { Flat($0, reader) } == reference.filter { $0.file != "./zz-long.txt" })
        }
        // Within the cap, the long line is listed, cut at the longest line the tool returns.
        let whole = read(output, chunk: 4096, limit: 1000, context: 0)
        let listed = try #require(whole.lines.map { Flat($0, whole) }.first { $0.file == "./zz-long.txt" })
        #expect(listed.text == GrepResults.lineText(long + " answer\n"))
        #expect(listed.text.hasSuffix("characters]"))
    }

    @Test func terminatorIsAnEscapeOnlyAfterAnOddRunOfBackslashes() {
        func stripped(_ escaped: String) -> String {
            Array(escaped.utf8).withUnsafeBufferPointer { String(decoding: RipgrepReader.withoutTerminator($0), as: UTF8.self) }
        }
        #expect(stripped(#"abc\n"#) == "abc")
        #expect(stripped(#"abc\r\n"#) == "abc")
        #expect(stripped(#"abc\\n"#) == #"abc\\n"#, "a backslash, then the letter n")
        #expect(stripped(#"abc\\\n"#) == #"abc\\"#)
        #expect(stripped(#"\n"#) == "")
        #expect(stripped("n") == "n")
        #expect(stripped(#"abc\n\n"#) == #"abc\n"#, "one terminator only")
    }

    // MARK: - Reference

    struct Flat: Equatable, CustomStringConvertible {
        let file: String, number: Int, text: String, isMatch: Bool
        init(file: String, number: Int, text: String, isMatch: Bool) { (self.file, self.number, self.text, self.isMatch) = (file, number, text, isMatch) }
        init(_ line: RipgrepReader.Line, _ reader: RipgrepReader) {
            let quoted = [UInt8(ascii: "\"")] + reader.texts[line.text] + [UInt8(ascii: "\"")]
            let text = (try? JSONParser.parse(quoted).stringValue) ?? "<not a JSON string: \(String(decoding: quoted, as: UTF8.self))>"
            self.init(file: reader.files[line.file], number: line.number, text: text, isMatch: line.isMatch)
        }
        var description: String { "\(file):\(number)\(isMatch ? ":" : "-")\(text.debugDescription)" }
    }

    func read(_ output: [UInt8], chunk: Int, limit: Int, context: Int, maximumMessage: Int = 1 << 20) -> RipgrepReader {
        var reader = RipgrepReader(limit: limit, contextLines: context, retainLimit: 1 << 30, maximumMessage: maximumMessage)
        var start = 0
        while start < output.count {
            let end = min(start + chunk, output.count)
            output[start..<end].withUnsafeBytes { reader.feed($0) }
            start = end
        }
        reader.finish()
        return reader
    }

    /// What the reader keeps: the first `limit` matches, context lines while the limit is not reached,
    /// then only the trailing context of the last kept match (a later match there as a context line).
    func kept(_ reference: [Flat], limit: Int, context: Int) -> [Flat] {
        var result: [Flat] = []
        var matches = 0
        var last: (file: String, line: Int)?
        for line in reference {
            if line.isMatch { matches += 1 }
            if line.isMatch ? matches <= limit : matches < limit {
                result.append(line)
                if line.isMatch { last = (line.file, line.number + line.text.utf8.filter { $0 == UInt8(ascii: "\n") }.count) }
            } else if let last, last.file == line.file, line.number <= last.line + context {
                result.append(Flat(file: line.file, number: line.number, text: line.text, isMatch: false))
            }
        }
        return result
    }

    /// Every `match` (and `context`) message parsed whole; texts without terminator, cut like the tool.
    func referenceParse(_ output: [UInt8], withContext: Bool) -> [Flat] {
        func text(_ value: JSONValue?) -> String? {
            if let text = value?["text"]?.stringValue { return text }
            guard let bytes = value?["bytes"]?.stringValue, let data = Data(base64Encoded: bytes) else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
        var lines: [Flat] = []
        for raw in output.split(separator: UInt8(ascii: "\n")) {
            guard let message = try? JSONParser.parse(raw), let type = message["type"]?.stringValue,
                type == "match" || (withContext && type == "context"), let data = message["data"],
                let path = text(data["path"]), let number = data["line_number"]?.doubleValue, let line = text(data["lines"])
            else { continue }
            lines.append(Flat(file: path, number: Int(number), text: GrepResults.lineText(line), isMatch: type == "match"))
        }
        return lines
    }

    func awkwardTree() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rg-json-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let files: [(String, [UInt8])] = [
            ("latin.txt", Array("caf\u{e9} answer ".utf8) + [0xFF, 0x0A]),
            ("dos.txt", Array("crlf answer\r\nnext\r\n".utf8)),
            ("new\nline.txt", Array("answer\n".utf8)),
            ("quote\"and\\slash.txt", Array("\t\"answer\"\\ \u{1}\n".utf8)),
            ("backslash-n.txt", Array("answer ends in a backslash \\\nanswer ends in \\n".utf8)),
            ("ctx.txt", Array("a\nanswer\nb\nc\nd\ne\nanswer\nf\nanswer\nanswer\ng\n".utf8)),
            ("nonl.txt", Array("answer no newline".utf8)),
            ("unicode.txt", Array("ünïcødé answer ✓ 日本語\n".utf8)),
        ]
        for (name, bytes) in files { _ = FileManager.default.createFile(atPath: "\(root)/\(name)", contents: Data(bytes)) }
        _ = FileManager.default.createFile(atPath: "\(root)/bad\u{1}name.txt", contents: Data("answer\n".utf8))
        return root
    }

    func ripgrep(in directory: String, _ arguments: [String]) throws -> [UInt8] {
        Array(try runProcess(
            "/usr/bin/rg", ["--no-config", "--hidden", "--with-filename", "--threads", "1", "--sort", "path"] + arguments,
            in: directory, stderrToo: false
        ).output)
    }
}
