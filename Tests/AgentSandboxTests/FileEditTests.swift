import Foundation
import Testing

/// file_edit and multi_edit semantics, asserted on the files themselves.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct FileEditTests {
    @Test func uniqueMatchIsReplacedAndTheRegionIsReturnedNumbered() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.write(agent, "app.py", "import os\n\ndef main():\n    print('hi')\n\nmain()\n")
        let reply = try await server.call("file_edit", agent: agent, ["file_path": "app.py", "old_string": "print('hi')", "new_string": "print('bye')"])
        #expect(reply.string("status") == "ok")
        #expect(reply.int("replacements_made") == 1)
        #expect(fileText(server.file(agent, "app.py")) == "import os\n\ndef main():\n    print('bye')\n\nmain()\n")
        #expect(reply.string("content") == "     2\t\n     3\tdef main():\n     4\t    print('bye')\n     5\t\n     6\tmain()\n")
        let body = try await server.post("/v1/agents/\(agent)/workspace/file_edit", json: ["path": "app.py", "old_text": "bye", "new_text": "ciao"])
        #expect(body.string("path") == "app.py" && body.int("replacements_made") == 1)
    }

    @Test func missingTextNamesTheWhitespaceNearMatch() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let original = "def f():\n\treturn 1\n\ndef g():\n    return 2\n"
        _ = try await server.write(agent, "m.py", original)
        let near = try await server.edit(agent, "m.py", "def g():\n  return 2", "def g():\n  return 3")
        #expect(near.string("error_code") == "EDIT_NOT_FOUND")
        #expect(near.string("error")?.contains("line 4") == true, "\(near.text)")
        let absent = try await server.edit(agent, "m.py", "return 42", "return 0")
        #expect(absent.string("error_code") == "EDIT_NOT_FOUND")
        #expect(absent.string("error")?.contains("file_read") == true)
        #expect(fileText(server.file(agent, "m.py")) == original, "a failed edit changes nothing")
        let same = try await server.edit(agent, "m.py", "return 1", "return 1")
        #expect(same.string("error_code") == "EDIT_NO_CHANGE")
    }

    @Test func ambiguousTextNamesCountAndLinesAndReplaceAllReplacesEvery() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.write(agent, "x.txt", "x = 1\ny\nx = 1\nz\nx = 1\n")
        let ambiguous = try await server.edit(agent, "x.txt", "x = 1", "x = 2")
        #expect(ambiguous.string("error_code") == "EDIT_NOT_UNIQUE")
        #expect(ambiguous.string("error")?.contains("3 times") == true)
        #expect(ambiguous.string("error")?.contains("lines 1, 3, 5") == true, "\(ambiguous.text)")
        let all = try await server.edit(agent, "x.txt", "x = 1", "x = 2", ["replace_all": true])
        #expect(all.int("replacements_made") == 3)
        #expect(fileText(server.file(agent, "x.txt")) == "x = 2\ny\nx = 2\nz\nx = 2\n")
        _ = try await server.edit(agent, "x.txt", "y\n", "")
        #expect(fileText(server.file(agent, "x.txt")) == "x = 2\nx = 2\nz\nx = 2\n", "empty new_text deletes")
    }

    @Test func crlfNoFinalNewlineMultibyteAndEmptyFiles() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "printf 'a\\r\\nb\\r\\nc\\r\\n' > dos.txt; printf 'a\\nb' > open.txt; touch empty.txt")
        _ = try await server.edit(agent, "dos.txt", "a\nb", "x\ny\nz")
        #expect(fileText(server.file(agent, "dos.txt")) == "x\r\ny\r\nz\r\nc\r\n", "CRLF kept")
        _ = try await server.edit(agent, "open.txt", "b", "c")
        #expect(fileText(server.file(agent, "open.txt")) == "a\nc", "no newline added")
        _ = try await server.write(agent, "u.txt", "héllo wörld ✓ 日本語\n")
        _ = try await server.edit(agent, "u.txt", "wörld ✓", "мир ✔")
        #expect(fileText(server.file(agent, "u.txt")) == "héllo мир ✔ 日本語\n")
        let onEmpty = try await server.edit(agent, "empty.txt", "x", "y")
        #expect(onEmpty.string("error_code") == "EDIT_NOT_FOUND")
        #expect(onEmpty.string("error")?.contains("empty") == true)
        let filled = try await server.edit(agent, "empty.txt", "", "first line\n")
        #expect(filled.string("status") == "ok")
        #expect(fileText(server.file(agent, "empty.txt")) == "first line\n")
        let created = try await server.edit(agent, "new/made.txt", "", "made\n")
        #expect(created.string("status") == "ok" && fileText(server.file(agent, "new/made.txt")) == "made\n")
    }

    @Test func fiftyMegabyteFileIsEditedExactly() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "yes '0123456789abcdefghijklmn' | head -c 50000000 > big.txt; echo 'THE_MARKER' >> big.txt; yes 'tail' | head -n 3 >> big.txt")
        let started = Date()
        let reply = try await server.edit(agent, "big.txt", "THE_MARKER", "REPLACED")
        #expect(reply.string("status") == "ok", "\(reply.text.prefix(300))")
        #expect(Date().timeIntervalSince(started) < 60, "a 50 MB edit is seconds of work, not minutes")
        let check = try await server.bash(agent, "stat -c %s big.txt; tail -n 4 big.txt; grep -c THE_MARKER big.txt")
        #expect(check.string("stdout") == "\(50_000_000 + 9 + 15)\nREPLACED\ntail\ntail\ntail\n0\n")
        let read = try await server.read(agent, "big.txt")
        #expect(read.bool("truncated") == true && read.int("total_lines") == 2_000_004)
    }

    @Test func multiEditAppliesInOrderAcrossFiles() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.write(agent, "a.txt", "alpha\n")
        _ = try await server.write(agent, "b.txt", "beta\n")
        let reply = try await server.call("multi_edit", agent: agent, ["edits": [
            ["path": "a.txt", "old_text": "alpha", "new_text": "ALPHA"],
            ["file_path": "b.txt", "old_string": "beta", "new_string": "BETA"],
            ["path": "a.txt", "old_text": "ALPHA", "new_text": "omega"],
        ]])
        #expect(reply.string("status") == "ok", "\(reply.text)")
        #expect(reply.int("replacements_made") == 3)
        #expect(fileText(server.file(agent, "a.txt")) == "omega\n")
        #expect(fileText(server.file(agent, "b.txt")) == "BETA\n")
        let single = try await server.call("multi_edit", agent: agent, ["file_path": "b.txt", "edits": [["old_string": "BETA", "new_string": "gamma"]]])
        #expect(single.string("status") == "ok")
        let body = try await server.post("/v1/agents/\(agent)/workspace/multi_edit", json: ["path": "b.txt", "edits": [["old_text": "gamma", "new_text": "delta"]]])
        let results = try #require(body.json["results"] as? [[String: Any]])
        #expect(results.count == 1 && results[0]["replacements_made"] as? Int == 1)
    }

    @Test func multiEditFailureChangesNoFile() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.write(agent, "a.txt", "alpha\n")
        _ = try await server.write(agent, "b.txt", "beta\n")
        let reply = try await server.call("multi_edit", agent: agent, ["edits": [
            ["path": "a.txt", "old_text": "alpha", "new_text": "ALPHA"],
            ["path": "b.txt", "old_text": "beta", "new_text": "BETA"],
            ["path": "b.txt", "old_text": "missing", "new_text": "x"],
        ]])
        #expect(reply.string("error_code") == "EDIT_NOT_FOUND")
        #expect(reply.string("error")?.contains("Edit 3 of 3") == true)
        #expect(fileText(server.file(agent, "a.txt")) == "alpha\n")
        #expect(fileText(server.file(agent, "b.txt")) == "beta\n")
        let entries = try FileManager.default.contentsOfDirectory(atPath: server.workspace(of: agent).path)
        #expect(Set(entries) == ["a.txt", "b.txt"], "no temp files left: \(entries)")
    }
}
