import AgentSandbox
import Foundation
import Testing
@testable import Tools

/// `RipgrepJSON` (a cursor reading only the needed fields) against a plain reading of every message
/// with `JSONParser`, on real `rg --json` output for awkward files.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/rg"), "needs ripgrep"))
struct RipgrepJSONTests {
    @Test func readsWhatAFullParseReads() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rg-json-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let files: [(String, [UInt8])] = [
            ("latin.txt", Array("caf\u{e9} answer ".utf8) + [0xFF, 0x0A]),
            ("dos.txt", Array("crlf answer\r\nnext\r\n".utf8)),
            ("new\nline.txt", Array("answer\n".utf8)),
            ("quote\"and\\slash.txt", Array("\t\"answer\"\\ \u{1}\n".utf8)),
            ("ctx.txt", Array("a\nanswer\nb\nc\nd\ne\nanswer\nf\n".utf8)),
            ("nonl.txt", Array("answer no newline".utf8)),
        ]
        for (name, bytes) in files { FileManager.default.createFile(atPath: "\(root)/\(name)", contents: Data(bytes)) }
        FileManager.default.createFile(atPath: "\(root)/bad\u{1}name.txt", contents: Data("answer\n".utf8))

        for context in [0, 1] {
            let output = try ripgrep(in: root, ["--json", "--context", String(context), "-e", "answer", "."])
            let reference = referenceParse(output, withContext: context > 0)
            for complete in [true, false] {
                for limit in [1, 3, 1000] {
                    let parsed = RipgrepJSON.parse(output, limit: limit, withContext: context > 0, complete: complete)
                    let matchesSeen = reference.filter(\.isMatch).count
                    #expect(parsed.seen == matchesSeen)
                    #expect(parsed.summaryLines == matchesSeen)
                    var kept = 0
                    let want = reference.filter { line in
                        guard line.isMatch else { return true }
                        kept += 1
                        return kept <= limit
                    }
                    #expect(parsed.lines.map(Flat.init) == want, "context \(context) complete \(complete) limit \(limit)")
                }
            }
        }
    }

    struct Flat: Equatable {
        let file: String, number: Int, text: String, isMatch: Bool
        init(_ line: RipgrepJSON.Line) { (file, number, text, isMatch) = (line.file, line.number, line.text, line.isMatch) }
        init(file: String, number: Int, text: String, isMatch: Bool) { (self.file, self.number, self.text, self.isMatch) = (file, number, text, isMatch) }
    }

    /// Every `match` (and `context`) message parsed whole.
    func referenceParse(_ output: String, withContext: Bool) -> [Flat] {
        func text(_ value: JSONValue?) -> String? {
            if let text = value?["text"]?.stringValue { return text }
            guard let bytes = value?["bytes"]?.stringValue, let data = Data(base64Encoded: bytes) else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
        var lines: [Flat] = []
        for raw in output.utf8.split(separator: UInt8(ascii: "\n")) {
            guard let message = try? JSONParser.parse(raw), let type = message["type"]?.stringValue,
                type == "match" || (withContext && type == "context"), let data = message["data"],
                let path = text(data["path"]), let number = data["line_number"]?.doubleValue, let line = text(data["lines"])
            else { continue }
            lines.append(Flat(file: path, number: Int(number), text: line, isMatch: type == "match"))
        }
        return lines
    }

    func ripgrep(in directory: String, _ arguments: [String]) throws -> String {
        let run = try runProcess(
            "/usr/bin/rg", ["--no-config", "--hidden", "--with-filename", "--threads", "1", "--sort", "path"] + arguments,
            in: directory, stderrToo: false)
        return String(decoding: run.output, as: UTF8.self)
    }
}
