@testable import AgentSandbox
import Foundation
import GRDB
import Testing

/// The hand-written fast paths of a tool call give exactly what the general code they replace gave.
struct HotPathUnitTests {
    /// A small deterministic generator, so a failure reproduces.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// The escaping rule, one scalar at a time.
    static func reference(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{8}": out += "\\b"
            case "\u{C}": out += "\\f"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    @Test func envelopeStringsAreEscapedExactlyAtEveryOffset() {
        let pieces = ["\"", "\\", "\n", "\r", "\t", "\u{8}", "\u{C}", "\u{0}", "\u{1F}", "\u{7F}", "é", "日本", "✓", "/", "x", "abcdefgh", " "]
        var random = SplitMix(state: 42)
        for length in 0..<48 {
            for _ in 0..<25 {
                let text = (0..<length).map { _ in pieces.randomElement(using: &random)! }.joined()
                let json = String(decoding: Envelope(content: text).jsonBytes(), as: UTF8.self)
                #expect(json.hasPrefix("{\"content\":" + Self.reference(text) + ","), "\(text.debugDescription)")
            }
        }
    }

    @Test func envelopeKeysAreSortedWithExtrasAmongTheCoreKeys() {
        var envelope = Envelope(path: "p")
        envelope.extras = ["zeta": 1, "aaa": true, "exit_code": "ignored", "matches_x": .null]
        let json = String(decoding: envelope.jsonBytes(), as: UTF8.self)
        #expect(json == #"{"aaa":true,"content":null,"error":null,"exit_code":null,"matches":null,"matches_x":null,"path":"p","status":"ok","stderr":null,"stdout":null,"url":null,"zeta":1}"#)
    }

    @Test func auditDatesAreStoredAsGRDBWritesThem() {
        var random = SplitMix(state: 7)
        var dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 951_782_400.9996), Date(timeIntervalSince1970: 4_107_542_399.999)]
        dates += (0..<5000).map { _ in Date(timeIntervalSince1970: Double.random(in: 0..<4_200_000_000, using: &random)) }
        dates += (0..<1000).map { _ in Date(timeIntervalSince1970: Double(Int.random(in: 0..<4_200_000_000_000, using: &random)) / 1000) }
        dates += (0..<1000).map { _ in Date(timeIntervalSince1970: (Double(Int.random(in: 0..<4_200_000_000_000, using: &random)) + 0.5) / 1000) }
        dates.append(Date())
        for date in dates {
            #expect(date.storageValue == date.databaseValue, "\(date.timeIntervalSince1970)")
        }
    }

    @Test func agentIDsParseAsUUIDsDo() throws {
        var random = SplitMix(state: 3)
        for _ in 0..<200 {
            let uuid = UUID(uuid: (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }.withUnsafeBytes { $0.load(as: uuid_t.self) })
            for spelling in [uuid.uuidString, uuid.uuidString.lowercased()] {
                #expect(try AgentID(spelling).rawValue == uuid.uuidString.lowercased())
            }
        }
        for bad in ["", "zzz", "3f2b6c1e8d4a4b7e9c215a6d7e8f9a0b", "3f2b6c1e-8d4a-4b7e-9c21-5a6d7e8f9a0g", "3f2b6c1e-8d4a-4b7e-9c21_5a6d7e8f9a0b", "3f2b6c1e-8d4a-4b7e-9c21-5a6d7e8f9a0b0"] {
            #expect(throws: ToolError.self) { try AgentID(bad) }
        }
    }

    @Test func asciiCamelCaseMatchesTheGeneralRule() {
        for key in ["line_numbers", "start_line", "A_b_C", "x__Y__z", "__a_b__", "_", "___", "already", "mixedCASE_word", "a_1_b", "é_b",
                    "working_dir", "a", "_private", "trailing_", "many__parts_here", "URL_path"] {
            let general = JSONValueDecoder.generalCamelCase(key)
            #expect(JSONValueDecoder.camelCase(key) == general, "\(key)")
        }
        // The general rule itself, pinned to JSONDecoder's convertFromSnakeCase.
        let pinned = ["line_numbers": "lineNumbers", "A_b_C": "ABC", "x__Y__z": "xYZ", "__a_b__": "__aB__", "_": "_", "already": "already",
                      "working_dir": "workingDir", "a": "a", "_private": "_private", "trailing_": "trailing_",
                      "many__parts_here": "manyPartsHere", "URL_path": "URLPath"]
        for (key, expected) in pinned { #expect(JSONValueDecoder.generalCamelCase(key) == expected, "\(key)") }
    }

    @Test func normalizedPathsAreReturnedAsTheGeneralRuleWouldGiveThem() {
        let resolver = PathResolver(root: "/data/agent")
        let pieces = ["a", "b", ".", "..", "...", ".x", "x.", "", "/", "//", "é", String(repeating: "n", count: 255), String(repeating: "n", count: 256)]
        var random = SplitMix(state: 11)
        for _ in 0..<3000 {
            let raw = (0..<Int.random(in: 1...5, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined(separator: Bool.random(using: &random) ? "/" : "")
            let fast = Result { () throws(ToolError) in try resolver.relative(raw, field: "path") }
            let general = Result { () throws(ToolError) in try Self.generalRelative(raw) }
            switch (fast, general) {
            case (.success(let a), .success(let b)): #expect(a == b, "\(raw)")
            case (.failure(let a), .failure(let b)): #expect(a.code == b.code, "\(raw)")
            default: Issue.record("\(raw): \(fast) vs \(general)")
            }
        }
    }

    /// `PathResolver.relative` for relative paths, as written before its fast path.
    static func generalRelative(_ raw: String) throws(ToolError) -> String {
        if raw.hasPrefix("/") { throw ToolError(.pathOutsideWorkspace, "absolute") }
        var components: [Substring] = []
        for component in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." {
                if components.popLast() == nil { throw ToolError(.pathOutsideWorkspace, "..") }
                continue
            }
            guard component.utf8.count <= 255 else { throw ToolError.invalidField("path", "long") }
            components.append(component)
        }
        if components.isEmpty { throw ToolError.invalidField("path", "empty") }
        return components.joined(separator: "/")
    }

    @Test func metricsRenderLatencyHistogramsByOperationEntryAndStatus() async throws {
        let metrics = Metrics()
        metrics.recordCall(tool: "file_read", entry: "sandbox", status: "ok", seconds: 0.004)
        metrics.recordCall(tool: "file_read", entry: "sandbox", status: "ok", seconds: 0.2)
        metrics.recordCall(tool: "bash", entry: "mcp", status: "EXEC_FAILED", seconds: 1)
        let text = await metrics.render()
        let fileRead = "operation=\"file_read\",entry=\"sandbox\",status=\"ok\""
        #expect(text.contains("agentsandbox_call_duration_seconds_bucket{\(fileRead),le=\"0.005\"} 1\n"))
        #expect(text.contains("agentsandbox_call_duration_seconds_bucket{\(fileRead),le=\"0.25\"} 2\n"))
        #expect(text.contains("agentsandbox_call_duration_seconds_count{\(fileRead)} 2\n"))
        #expect(text.contains("agentsandbox_call_duration_seconds_bucket{operation=\"bash\",entry=\"mcp\",status=\"EXEC_FAILED\",le=\"0.5\"} 0\n"))
        #expect(text.contains("agentsandbox_spawn_failures_total 1\n"))
        #expect(text.contains("agentsandbox_calls_in_flight 0\n"))
    }
}
