import AgentSandbox
import Foundation
import Testing
import SandboxKernel

struct OutputCollectorTests {
    @Test func keepsEverythingUnderTheLimit() {
        var collector = OutputCollector(limit: 16)
        collector.append(Array("hello".utf8))
        #expect(collector.render() == "hello")
        #expect(!collector.truncated)
    }

    @Test func keepsHeadAndTailWithAMarker() {
        var collector = OutputCollector(limit: 8)
        for chunk in ["abc", "defgh", "ijklmnop", "qrstuvwxyz"] { collector.append(Array(chunk.utf8)) }
        #expect(collector.truncated)
        #expect(collector.totalBytes == 26)
        #expect(collector.render() == "abcd\n[... 18 bytes truncated ...]\nwxyz")
    }
}

struct SchemaValidatorTests {
    let validator = SchemaValidator(schema: [
        "type": "object",
        "properties": ["path": ["type": "string"], "limit": ["type": "integer", "minimum": 1, "default": 10]],
        "required": ["path"],
        "x-aliases": ["file_path": "path"],
    ])

    @Test func fillsDefaultsAndRenamesAliases() throws {
        let result = try validator.validate(["file_path": "a.txt"])
        #expect(result["path"] == "a.txt")
        #expect(result["limit"] == 10)
        #expect(result["file_path"] == nil)
    }

    @Test func namesTheFieldOnTypeAndRangeErrors() {
        #expect(throws: ToolError.invalidField("limit", "must be an integer, not a string.")) { try validator.validate(["path": "a", "limit": "x"]) }
        #expect(throws: ToolError.invalidField("limit", "must be at least 1 (got 0).")) { try validator.validate(["path": "a", "limit": 0]) }
        #expect(throws: ToolError(.invalidRequest, "Missing required field `path`.")) { try validator.validate([:]) }
    }
}

struct PathResolverTests {
    let resolver = PathResolver(root: "/data/ws")

    @Test func normalisesRelativeAndMapsAbsoluteInside() throws {
        #expect(try resolver.relative("a/./b//c", field: "path") == "a/b/c")
        #expect(try resolver.relative("a/../b", field: "path") == "b")
        #expect(try resolver.relative("/data/ws/src/x.py", field: "path") == "src/x.py")
        #expect(try resolver.relative("/workspace/src/x.py", field: "path") == "src/x.py")
    }

    @Test func refusesEscapesNulAndOverlongPaths() {
        for path in ["../x", "a/../../x", "/etc/passwd", "/data/wsx/a"] {
            #expect(throws: ToolError.self) { try resolver.relative(path, field: "path") }
            #expect((try? resolver.relative(path, field: "path")) == nil)
        }
        #expect { try resolver.relative("a\0b", field: "path") } throws: { ($0 as? ToolError)?.code == .invalidRequest }
        #expect { try resolver.relative(String(repeating: "a/", count: 2500), field: "path") } throws: { ($0 as? ToolError)?.code == .invalidRequest }
        #expect { try resolver.relative("", field: "path") } throws: { ($0 as? ToolError)?.code == .invalidRequest }
    }
}

struct JSONParserTests {
    @Test func parsesWhatJSONDecoderParses() throws {
        let documents = [
            #"{"a": [1, -2.5, 3e2, true, false, null], "b": {"c": "d\"e\\f\n\u00e9\ud83d\ude00"}, "": ""}"#,
            #"  [ ]  "#, #"{}"#, #""plain""#, #"12345678901234567890"#, #"-0.0"#,
        ]
        for document in documents {
            let fast = try JSONParser.parse(Array(document.utf8))
            let reference = try JSONDecoder().decode(JSONValue.self, from: Data(document.utf8))
            #expect(fast == reference, "\(document)")
        }
    }

    @Test func refusesMalformedDocumentsWithAnOffset() {
        for document in [#"{"a": }"#, #"[1, 2"#, #"{"a" 1}"#, #"tru"#, #""unterminated"#, #"{"a": 1} x"#, "", #"[01x]"#,
                         #""esc\"#, #""a\nb"#, #""bad \q escape""#, "\"tab\\t and raw \u{01}\"", #""\u12"#] {
            #expect(throws: JSONParser.SyntaxError.self, "\(document)") { try JSONParser.parse(Array(document.utf8)) }
        }
    }

    @Test func decodesEscapesLikeJSONDecoder() throws {
        let strings = [
            #""\n""#, #""line\n""#, #""\tindented\t\"quoted\" back\\slash \/ \b\f\r""#, #""é \u00e9 \ud83d\ude00 end""#,
            #""\u0000nul""#, #""x\\""#, "\"ünïcödé \\n\"",
        ]
        for document in strings {
            let fast = try JSONParser.parse(Array(document.utf8))
            let reference = try JSONDecoder().decode(JSONValue.self, from: Data(document.utf8))
            #expect(fast == reference, "\(document)")
        }
        // Foundation refuses a lone surrogate; the parser replaces it.
        #expect(try JSONParser.parse(Array(#""lone \ud800 surrogate\t""#.utf8)) == .string("lone \u{FFFD} surrogate\t"))
        // A high surrogate followed by an escape that is not a low one: the second escape is kept as itself.
        #expect(try JSONParser.parse(Array(#""\uD800\u0041""#.utf8)) == .string("\u{FFFD}A"))
        #expect(try JSONParser.parse(Array(#""\ud800\ud83d\ude00""#.utf8)) == .string("\u{FFFD}\u{1F600}"))
    }
}

struct JSONCursorTests {
    @Test func readsChosenMembersAndSkipsTheRest() throws {
        let document = #"{"type":"match","data":{"skip":[{"a":[1,{"b":"}]\""}]},-2.5e3,null,true],"path":{"text":"a\nb"},"n":null,"line_number":42}}"#
        let bytes = Array(document.utf8)
        try bytes.withUnsafeBufferPointer { buffer in
            var cursor = JSONCursor(buffer)
            var seen: [String] = []
            try cursor.beginObject()
            while let key = try cursor.nextKey() {
                seen.append(String(decoding: key, as: UTF8.self))
                guard key.elementsEqual("data".utf8) else { try cursor.skip(); continue }
                try cursor.beginObject()
                while let field = try cursor.nextKey() {
                    seen.append(String(decoding: field, as: UTF8.self))
                    if field.elementsEqual("path".utf8) {
                        try cursor.beginObject()
                        _ = try cursor.nextKey()
                        #expect(try cursor.string() == "a\nb")
                        #expect(try cursor.nextKey() == nil)
                    } else if field.elementsEqual("n".utf8) {
                        #expect(try cursor.number() == nil)
                    } else if field.elementsEqual("line_number".utf8) {
                        #expect(try cursor.number() == 42)
                    } else {
                        try cursor.skip()
                    }
                }
            }
            #expect(seen == ["type", "data", "skip", "path", "n", "line_number"])
            #expect(cursor.offset == buffer.count)
        }
    }

    @Test func refusesTruncatedInput() {
        for document in [#"{"a":{"b":[1,2"#, #"{"a":"unterminated"#, #"{"a" 1}"#, #"{"a":1"#] {
            let bytes = Array(document.utf8)
            #expect(throws: JSONParser.SyntaxError.self, "\(document)") {
                try bytes.withUnsafeBufferPointer { buffer in
                    var cursor = JSONCursor(buffer)
                    try cursor.beginObject()
                    while try cursor.nextKey() != nil { try cursor.skip() }
                }
            }
        }
    }
}

struct JSONValueDecoderTests {
    struct Sample: Decodable, Equatable {
        struct Edit: Decodable, Equatable { var oldText: String; var replaceAll: Bool }
        var workingDir: String
        var timeout: Int
        var env: [String: String]?
        var edits: [Edit]
        var missing: String?
    }

    @Test func decodesSnakeCaseKeysNestedArraysAndMaps() throws {
        let value: JSONValue = ["working_dir": "src", "timeout": 30, "env": ["A_B": "1"], "edits": [["old_text": "x", "replace_all": true]]]
        let sample = try JSONValueDecoder().decode(Sample.self, from: value)
        #expect(sample == Sample(workingDir: "src", timeout: 30, env: ["A_B": "1"], edits: [.init(oldText: "x", replaceAll: true)], missing: nil))
    }

    @Test func refusesAFractionForAnInteger() {
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Sample.self, from: ["working_dir": "", "timeout": .number(1.5), "edits": []]) }
    }
}
