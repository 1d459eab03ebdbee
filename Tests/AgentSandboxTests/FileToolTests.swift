#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// file_read and file_write against a real server: ranges, caps, encodings, messages, ownership.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct FileToolTests {
    @Test func readReturnsTextTotalLinesAndRanges() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.write(agent, "notes.txt", "one\ntwo\nthree\nfour\n")
        let whole = try await server.read(agent, "notes.txt")
        #expect(whole.string("status") == "ok")
        #expect(whole.string("content") == "one\ntwo\nthree\nfour\n")
        #expect(whole.int("total_lines") == 4)
        #expect(whole.string("encoding") == "utf-8")
        #expect(whole.bool("truncated") == false)
        #expect(try await server.read(agent, "notes.txt", ["start_line": 2, "end_line": 3]).string("content") == "two\nthree\n")
        #expect(try await server.read(agent, "notes.txt", ["start_line": 3]).string("content") == "three\nfour\n")
        #expect(try await server.read(agent, "notes.txt", ["end_line": 99]).string("content") == "one\ntwo\nthree\nfour\n")
        // Claude Code's names: file_path, offset (first line) and limit (line count).
        let aliased = try await server.call("file_read", agent: agent, ["file_path": "notes.txt", "offset": 2, "limit": 2])
        #expect(aliased.string("content") == "two\nthree\n")
        let numbered = try await server.read(agent, "/workspace/notes.txt", ["start_line": 3, "line_numbers": true])
        #expect(numbered.string("content") == "     3\tthree\n     4\tfour\n")
    }

    @Test func readErrorsSayWhatToDo() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "mkdir src; printf 'a\\nb\\nc\\n' > three.txt; mkfifo pipe")
        let missing = try await server.read(agent, "src/app.py")
        #expect(missing.status == 200 && missing.string("error_code") == "FILE_NOT_FOUND")
        #expect(missing.string("error")?.contains("src/app.py") == true)
        #expect(missing.string("error")?.contains("relative to the workspace root") == true)
        let directory = try await server.read(agent, "src")
        #expect(directory.string("error_code") == "IS_A_DIRECTORY")
        #expect(directory.string("error")?.contains("directory") == true)
        let beyond = try await server.read(agent, "three.txt", ["start_line": 10])
        #expect(beyond.string("error_code") == "LINE_OUT_OF_RANGE")
        #expect(beyond.string("error")?.contains("has 3 lines") == true)
        let backwards = try await server.read(agent, "three.txt", ["start_line": 3, "end_line": 2])
        #expect(backwards.string("error_code") == "LINE_OUT_OF_RANGE")
        let fifo = try await server.read(agent, "pipe")
        #expect(fifo.string("error_code") == "NOT_A_REGULAR_FILE", "a FIFO must not hang the server")
    }

    @Test func largeFileIsCutAtALineWithAHintToPage() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "seq 1 100000 > big.txt")
        let first = try await server.read(agent, "big.txt")
        #expect(first.bool("truncated") == true)
        #expect(first.int("total_lines") == 100_000)
        let content = try #require(first.string("content"))
        #expect(content.utf8.count <= 256 << 10 && content.hasSuffix("\n"))
        let kept = content.split(separator: "\n").count
        #expect(first.string("hint")?.contains("start_line=\(kept + 1)") == true)
        let next = try await server.read(agent, "big.txt", ["start_line": kept + 1, "end_line": kept + 2])
        #expect(next.string("content") == "\(kept + 1)\n\(kept + 2)\n")
        #expect(next.bool("truncated") == false)
    }

    @Test func emptyFileNoFinalNewlineAndBinary() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "touch empty; printf 'a\\nb' > open.txt; printf 'PK\\x00\\x01\\xff' > blob.bin")
        let empty = try await server.read(agent, "empty")
        #expect(empty.string("content") == "" && empty.int("total_lines") == 0)
        let open = try await server.read(agent, "open.txt", ["start_line": 2])
        #expect(open.string("content") == "b" && open.int("total_lines") == 2)
        let binary = try await server.read(agent, "blob.bin")
        #expect(binary.string("error_code") == "BINARY_FILE")
        #expect(binary.string("error")?.contains("base64") == true)
        let encoded = try await server.read(agent, "blob.bin", ["encoding": "base64"])
        #expect(encoded.string("content") == Data([0x50, 0x4B, 0, 1, 0xFF]).base64EncodedString())
        #expect(encoded.string("encoding") == "base64")
    }

    @Test func workspaceRouteGivesToolSpecificBodies() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.write(agent, "w.txt", "x\ny\n")
        let reply = try await server.post("/v1/agents/\(agent)/workspace/file_read", json: ["path": "w.txt"])
        #expect(reply.string("content") == "x\ny\n")
        #expect(reply.int("lines_count") == 2)
        #expect(reply.string("encoding_detected") == "utf-8")
    }

    @Test func writeCreatesDirectoriesOwnedByTheAgentWithStandardModes() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let uid = try await server.provision(agent)
        let reply = try await server.write(agent, "a/b/c.txt", "hello\n")
        #expect(reply.string("status") == "ok")
        #expect(reply.string("path") == "a/b/c.txt")
        #expect(reply.int("bytes_written") == 6)
        #expect(fileText(server.file(agent, "a/b/c.txt")) == "hello\n")
        for (path, mode) in [("a", 0o755), ("a/b", 0o755), ("a/b/c.txt", 0o644)] {
            let info = try #require(fileStatus(server.file(agent, path)))
            #expect(info.st_uid == uid && info.st_gid == uid, "\(path) owned by the agent")
            #expect(Int(info.st_mode & 0o7777) == mode, "\(path) mode")
        }
        let shell = try await server.bash(agent, "echo more >> a/b/c.txt && sed -i s/hello/bye/ a/b/c.txt && cat a/b/c.txt")
        #expect(shell.string("stdout") == "bye\nmore\n", "bash (as the agent) can edit what the tools wrote")
        _ = try await server.edit(agent, "a/b/c.txt", "bye", "ciao")
        #expect(fileStatus(server.file(agent, "a/b/c.txt"))?.st_uid == uid)
    }

    @Test func writeKeepsModeAppendsAndDecodesBase64() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "printf 'v1' > run.sh; chmod 750 run.sh")
        _ = try await server.write(agent, "run.sh", "#!/bin/sh\necho hi\n")
        #expect(fileStatus(server.file(agent, "run.sh")).map { Int($0.st_mode & 0o7777) } == 0o750)
        #expect(try await server.bash(agent, "./run.sh").string("stdout") == "hi\n")
        let appended = try await server.write(agent, "run.sh", "echo again\n", ["mode": "a"])
        #expect(appended.int("bytes_written") == 11)
        #expect(fileText(server.file(agent, "run.sh")) == "#!/bin/sh\necho hi\necho again\n")
        let bytes = Data([0, 1, 2, 0xFE, 0xFF])
        _ = try await server.write(agent, "data.bin", bytes.base64EncodedString(), ["encoding": "base64"])
        #expect(FileManager.default.contents(atPath: server.file(agent, "data.bin")) == bytes)
        let bad = try await server.write(agent, "x.bin", "%%%", ["encoding": "base64"])
        #expect(bad.string("error_code") == "INVALID_CONTENT")
    }

    @Test func writeErrorsSayWhatToDo() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "mkdir dir; echo x > plain")
        let noParent = try await server.write(agent, "missing/f.txt", "x", ["create_dirs": false])
        #expect(noParent.string("error_code") == "FILE_NOT_FOUND")
        #expect(noParent.string("error")?.contains("create_dirs") == true)
        #expect(fileStatus(server.file(agent, "missing")) == nil)
        #expect(try await server.write(agent, "dir", "x").string("error_code") == "IS_A_DIRECTORY")
        #expect(try await server.write(agent, "plain/f.txt", "x").string("error_code") == "NOT_A_DIRECTORY")
        let root = try await server.write(agent, ".", "x")
        #expect(root.status == 400 && root.string("error")?.contains("path") == true)
        let noTemp = try FileManager.default.contentsOfDirectory(atPath: server.workspace(of: agent).path)
        #expect(!noTemp.contains { $0.hasSuffix(".tmp") }, "no temp files left behind: \(noTemp)")
    }
}
