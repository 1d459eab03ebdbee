import AgentSandbox
import Foundation
import Testing

/// The direct envelope writer produces the same document as the shared JSON encoder.
struct EnvelopeWriterTests {
    @Test func writerMatchesTheSharedEncoder() throws {
        var envelope = Envelope(stdout: "a \"quoted\" \\ back/slash\n\t\u{1}\u{1F}", stderr: nil, exitCode: -3,
                                content: "héllo ✓ 日本語 \r\n", path: "src/a.py", matches: [["file": "x", "line": 3]], url: nil)
        envelope.status = .error
        envelope.error = "bad"
        envelope.extras = ["total_lines": 12, "truncated": true, "ratio": .number(0.25), "results": [["path": "p", "replacements_made": 1]], "status": "ignored"]
        let direct = try JSONSerialization.jsonObject(with: Data(envelope.jsonBytes())) as? NSDictionary
        let encoded = try JSONSerialization.jsonObject(with: JSONCoding.makeEncoder().encode(envelope)) as? NSDictionary
        #expect(direct != nil && direct == encoded)
        #expect(String(decoding: envelope.jsonBytes(), as: UTF8.self).contains(#""path":"src/a.py""#), "slashes are not escaped")
    }

    @Test func encodedMatchesAreCopiedAsWrittenAndReadBackAsValues() throws {
        var array = JSONArrayWriter()
        let content = Array(#"tab\there \"q\" \u00e9"#.utf8)
        let name = JSONArrayWriter.escaped("dir/ä \"b\".txt")
        content.withUnsafeBufferPointer { content in
            name.withUnsafeBufferPointer { name in
                array.element(maximumBytes: 64 + content.count + name.count) { out in
                    out.syntax(#"{"content":""#)
                    out.escaped(content)
                    out.syntax(#"","file":""#)
                    out.escaped(name)
                    out.syntax(#"","line":"#)
                    out.integer(42)
                    out.syntax(#","offset":"#)
                    out.integer(-7)
                    out.syntax("}")
                }
            }
        }
        array.element(maximumBytes: 2) { $0.syntax("{}") }
        var envelope = Envelope()
        envelope.encodedMatches = array.finish()
        envelope.extras["total_matches"] = 2

        let expected: [JSONValue] = [["content": "tab\there \"q\" é", "file": "dir/ä \"b\".txt", "line": 42, "offset": -7], [:]]
        #expect(envelope.encodedMatches?.count == 2)
        #expect(envelope.matches == expected, "reading matches parses the array back")
        let direct = try JSONSerialization.jsonObject(with: Data(envelope.jsonBytes())) as? NSDictionary
        let encoded = try JSONSerialization.jsonObject(with: JSONCoding.makeEncoder().encode(envelope)) as? NSDictionary
        #expect(direct != nil && direct == encoded)
        #expect(String(decoding: envelope.jsonBytes(), as: UTF8.self).contains(#"[{"content":"tab\there \"q\" \u00e9","file""#))
    }

    @Test func stringContentCheckAcceptsOnlyWhatCanStandBetweenQuotes() {
        func check(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBufferPointer(JSONArrayWriter.isStringContent) }
        for good in ["", "plain", #"esc \" \\ \/ \b \f \n \r \t \u00FF \uabcd"#, "héllo ✓ 日本語", String(repeating: "long run of text ", count: 20)] {
            #expect(check(Array(good.utf8)), "\(good)")
        }
        for bad in [#"bare " quote"#, #"trailing \"#, #"bad \x escape"#, #"short \u12"#, #"bad hex \u12g4"#, "tab\tinside", "nul\u{0}"] {
            #expect(!check(Array(bad.utf8)), "\(bad.debugDescription)")
        }
        #expect(!check(Array("caf".utf8) + [0xE9, 0x20]), "Latin-1, not UTF-8")
        #expect(!check([0xED, 0xA0, 0x80]), "an encoded surrogate")
        #expect(!check(Array("ok".utf8) + [0xE2, 0x9C]), "a cut sequence")
    }
}

/// A byte miscount in an element's size estimate never stops the server nor corrupts the array.
struct JSONArrayWriterEstimateTests {
    @Test func anElementLargerThanItsEstimateIsWrittenWhole() throws {
        let long = Array(String(repeating: "x", count: 5000).utf8)
        var array = JSONArrayWriter(capacity: 16)
        array.element(maximumBytes: 8) { $0.syntax("{}") }
        long.withUnsafeBufferPointer { long in
            // The estimate leaves out the content: the writer must measure and run the element again.
            array.element(maximumBytes: 10) { out in
                out.syntax(#"{"content":""#)
                out.escaped(long)
                out.syntax(#"","line":"#)
                out.integer(-1234567)
                out.syntax("}")
            }
        }
        array.element(maximumBytes: 0) { $0.syntax("[]") }
        let values = array.finish().values()
        #expect(values.count == 3)
        #expect(values.first == [:])
        #expect(values.dropFirst().first == ["content": .string(String(repeating: "x", count: 5000)), "line": -1234567])
        #expect(values.last == [])
    }
}
