import Foundation
import Testing

/// Files in a legacy single-byte encoding (cp1251 here): read as latin-1 (one character per byte),
/// edited and appended to byte for byte, and never left with UTF-8 mixed in.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct LegacyEncodingTests {
    /// "# Привет\nname = old\n" in cp1251.
    static let cp1251: [UInt8] = Array("# ".utf8) + [0xCF, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2] + Array("\nname = old\n".utf8)
    /// The same bytes as file_read shows them: one latin-1 character per byte.
    static let shown = "# Ïðèâåò\nname = old\n"

    private func writeBytes(_ server: TestServer, _ agent: String, _ path: String, _ bytes: [UInt8]) async throws {
        let reply = try await server.write(agent, path, Data(bytes).base64EncodedString(), ["encoding": "base64"])
        #expect(reply.string("status") == "ok", "\(reply.text)")
    }

    private func bytes(_ server: TestServer, _ agent: String, _ path: String) -> [UInt8] {
        FileManager.default.contents(atPath: server.file(agent, path)).map { [UInt8]($0) } ?? []
    }

    @Test func fileReadReportsTheDetectedEncodingAndShowsEveryByte() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        try await writeBytes(server, agent, "legacy.txt", Self.cp1251)
        _ = try await server.write(agent, "utf8.txt", "héllo\n")
        let legacy = try await server.read(agent, "legacy.txt")
        #expect(legacy.string("encoding_detected") == "latin-1")
        #expect(legacy.string("content") == Self.shown)
        let numbered = try await server.read(agent, "legacy.txt", ["line_numbers": true, "end_line": 1])
        #expect(numbered.string("content") == "     1\t# Ïðèâåò\n")
        let flavoured = try await server.post("/v1/agents/\(agent)/workspace/file_read", json: ["path": "legacy.txt"])
        #expect(flavoured.string("encoding_detected") == "latin-1")
        #expect(try await server.read(agent, "utf8.txt").string("encoding_detected") == "utf-8")
        let plain = try await server.post("/v1/agents/\(agent)/workspace/file_read", json: ["path": "utf8.txt"])
        #expect(plain.string("encoding_detected") == "utf-8" && plain.string("content") == "héllo\n")
    }

    @Test func editsKeepEveryUntouchedByteAndWriteInTheFilesEncoding() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        try await writeBytes(server, agent, "legacy.txt", Self.cp1251)
        let edited = try await server.edit(agent, "legacy.txt", "name = old", "name = née")
        #expect(edited.string("status") == "ok", "\(edited.text)")
        #expect(edited.string("content")?.contains("name = née") == true)
        let expected = Array(Self.cp1251.dropLast(4)) + [0x6E, 0xE9, 0x65, 0x0A]  // "old\n" → "née\n"
        #expect(bytes(server, agent, "legacy.txt") == expected, "é is written as the single byte 0xE9, the rest is untouched")
        // Text copied from file_read (the latin-1 view) matches the bytes it shows.
        let copied = try await server.edit(agent, "legacy.txt", "Ïðèâåò", "Ïðèâåò!")
        #expect(copied.string("status") == "ok", "\(copied.text)")
        #expect(bytes(server, agent, "legacy.txt").prefix(9) == ArraySlice(Self.cp1251.prefix(8) + [0x21]))
    }

    @Test func textTheEncodingCannotHoldIsRefusedAndNothingChanges() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        try await writeBytes(server, agent, "legacy.txt", Self.cp1251)
        let refused = try await server.edit(agent, "legacy.txt", "name = old", "name = Привет")
        #expect(refused.status == 200 && refused.string("status") == "error")
        #expect(refused.string("error_code") == "ENCODING_MISMATCH")
        #expect(refused.string("error")?.contains("latin-1") == true && refused.string("error")?.contains("U+041F") == true, "\(refused.text)")
        let multi = try await server.call("multi_edit", agent: agent, ["edits": [
            ["path": "legacy.txt", "old_text": "name", "new_text": "key"],
            ["path": "legacy.txt", "old_text": "old", "new_text": "日本"],
        ]])
        #expect(multi.string("error_code") == "ENCODING_MISMATCH")
        #expect(multi.int("failed_edit") == 2)
        let appended = try await server.write(agent, "legacy.txt", "мир\n", ["mode": "a"])
        #expect(appended.string("error_code") == "ENCODING_MISMATCH", "\(appended.text)")
        #expect(bytes(server, agent, "legacy.txt") == Self.cp1251, "no refused call changed the file")
    }

    @Test func appendingKeepsTheExistingFilesEncoding() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        try await writeBytes(server, agent, "legacy.txt", Self.cp1251)
        let appended = try await server.write(agent, "legacy.txt", "café\n", ["mode": "a"])
        #expect(appended.string("status") == "ok", "\(appended.text)")
        #expect(bytes(server, agent, "legacy.txt") == Self.cp1251 + Array("caf".utf8) + [0xE9, 0x0A])
        _ = try await server.write(agent, "utf8.txt", "a\n")
        _ = try await server.write(agent, "utf8.txt", "café\n", ["mode": "a"])
        #expect(bytes(server, agent, "utf8.txt") == Array("a\ncafé\n".utf8), "a UTF-8 file gets UTF-8")
    }
}

/// multi_edit names its failing edit with one numbering: the message's, 1-based.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct MultiEditNumberingTests {
    @Test func failedEditIsTheOneBasedNumberTheMessageNames() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.write(agent, "a.txt", "one\ntwo\n")
        let reply = try await server.call("multi_edit", agent: agent, ["edits": [
            ["path": "a.txt", "old_text": "one", "new_text": "1"],
            ["path": "a.txt", "old_text": "three", "new_text": "3"],
        ]])
        #expect(reply.string("error_code") == "EDIT_NOT_FOUND")
        #expect(reply.string("error")?.hasPrefix("Edit 2 of 2 failed") == true, "\(reply.text)")
        #expect(reply.int("failed_edit") == 2)
        #expect(fileText(server.file(agent, "a.txt")) == "one\ntwo\n")
    }
}
