#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// Every path attack on the file tools: refused or confined, and nothing outside the workspace is
/// read, created or changed — checked on the file system, not only in the responses.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct PathSafetyTests {
    /// Calls every file tool on `path`; returns the replies.
    private func attack(_ server: TestServer, _ agent: String, _ path: String) async throws -> [TestServer.Reply] {
        [
            try await server.read(agent, path),
            try await server.write(agent, path, "pwned\n"),
            try await server.edit(agent, path, "secret", "pwned"),
            try await server.call("multi_edit", agent: agent, ["edits": [["path": path, "old_text": "secret", "new_text": "pwned"]]]),
        ]
    }

    private func expectRefused(_ replies: [TestServer.Reply], _ codes: Set<String> = ["PATH_OUTSIDE_WORKSPACE"]) {
        for reply in replies {
            #expect(reply.string("status") == "error", "\(reply.text)")
            #expect(codes.contains(reply.string("error_code") ?? ""), "\(reply.text)")
            #expect(reply.string("content")?.contains("secret") != true)
        }
    }

    @Test func dotDotAndAbsolutePathsAreRefused() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.provision(agent)
        let outside = makeOutsideDirectory()
        try "secret\n".write(toFile: outside + "/victim.txt", atomically: false, encoding: .utf8)
        for path in ["../x", "a/../../x", "../../../../\(outside)/victim.txt", "\(outside)/victim.txt", "/etc/passwd", "/etc/agentsandbox-\(agent)"] {
            expectRefused(try await attack(server, agent, path))
        }
        #expect(fileStatus(server.dataRoot.appendingPathComponent("x").path) == nil)
        #expect(fileStatus(server.dataRoot.deletingLastPathComponent().appendingPathComponent("x").path) == nil)
        #expect(fileStatus("/etc/agentsandbox-\(agent)") == nil)
        #expect(fileText(outside + "/victim.txt") == "secret\n")
        // Inside paths spelled absolutely or with harmless `..` work.
        #expect(try await server.write(agent, "/workspace/in.txt", "ok").string("status") == "ok")
        #expect(try await server.read(agent, "a/../in.txt").string("content") == "ok")
        #expect(try await server.read(agent, server.file(agent, "in.txt")).string("content") == "ok")
    }

    @Test func symlinksOutOfTheWorkspaceAreRefusedAtAnyComponent() async throws {
        let server = try await TestServer.shared.get()
        let (agent, other) = (newAgent(), newAgent())
        _ = try await server.write(other, "secret.txt", "secret of other\n")
        let outside = makeOutsideDirectory()
        try "secret\n".write(toFile: outside + "/victim.txt", atomically: false, encoding: .utf8)
        let otherWorkspace = server.workspace(of: other).path
        _ = try await server.bash(agent, """
            ln -s /etc etc; ln -s \(outside) out; ln -s \(outside)/victim.txt leaf; ln -s \(otherWorkspace) neighbour
            ln -s ../../../../../../../../\(outside) relative; ln -s /nonexistent-\(agent)/x dangling; ln -s ../escape-\(agent) dangling2
            """)
        for path in ["etc/passwd", "etc/agentsandbox-\(agent)", "out/victim.txt", "out/new.txt", "leaf", "neighbour/secret.txt",
                     "neighbour/new.txt", "relative/victim.txt", "dangling", "dangling2"] {
            expectRefused(try await attack(server, agent, path), ["PATH_OUTSIDE_WORKSPACE", "FILE_NOT_FOUND"])
        }
        #expect(fileText(outside + "/victim.txt") == "secret\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == ["victim.txt"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: otherWorkspace) == ["secret.txt"])
        #expect(fileText(otherWorkspace + "/secret.txt") == "secret of other\n")
        #expect(fileStatus("/etc/agentsandbox-\(agent)") == nil && fileStatus("/nonexistent-\(agent)") == nil)
        #expect(fileStatus(server.dataRoot.appendingPathComponent("escape-\(agent)").path) == nil)
        #expect(fileStatus(server.file(agent, "leaf"))?.isLink == true, "the link itself is not replaced")
    }

    @Test func symlinksInsideTheWorkspaceWorkNormally() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "mkdir real; echo secret > real/f.txt; ln -s real alias; ln -s real/f.txt flink; ln -s real/later.txt pending")
        #expect(try await server.read(agent, "alias/f.txt").string("content") == "secret\n")
        #expect(try await server.write(agent, "alias/g.txt", "g").string("status") == "ok")
        #expect(fileText(server.file(agent, "real/g.txt")) == "g")
        #expect(try await server.edit(agent, "flink", "secret", "public").string("status") == "ok")
        #expect(fileText(server.file(agent, "real/f.txt")) == "public\n")
        #expect(fileStatus(server.file(agent, "flink"))?.isLink == true)
        #expect(try await server.write(agent, "pending", "made").string("path") == "real/later.txt")
        #expect(fileText(server.file(agent, "real/later.txt")) == "made")
    }

    @Test func swappingADirectoryForASymlinkDuringWritesNeverEscapes() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.provision(agent)
        let outside = makeOutsideDirectory()
        try "secret\n".write(toFile: outside + "/f.txt", atomically: false, encoding: .utf8)
        async let swapper = server.bash(agent, """
            end=$((SECONDS+40)); n=0; while [ ! -e stop ] &&  [ $SECONDS -lt $end ]; do
              rm -rf d; mkdir d; echo inside > d/f.txt; rm -rf d; ln -s \(outside) d; n=$((n+1))
            done; rm -f stop; echo swapped $n
            """)
        // Rounds of concurrent writes and reads through `d` while it flips between dir and symlink: for
        // 7 s, and at least 3 rounds (on a loaded machine a round of fsyncs can take seconds).
        var outcomes: [String: Int] = [:]
        let deadline = Date().addingTimeInterval(7), latest = Date().addingTimeInterval(30)
        var round = 0
        while (Date() < deadline || round < 3), Date() < latest, round < 40 {
            round += 1
            let current = round
            let replies = try await withThrowingTaskGroup(of: (Bool, TestServer.Reply).self) { group in
                for index in 0..<8 {
                    group.addTask {
                        index < 6 ? (true, try await server.write(agent, "d/f\(index).txt", "pwned \(current)\n", ["create_dirs": false]))
                            : (false, try await server.read(agent, "d/f.txt"))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for (isWrite, reply) in replies {
                #expect(reply.string("content")?.contains("secret") != true)
                if isWrite { outcomes[reply.string("error_code") ?? "ok", default: 0] += 1 }
            }
        }
        _ = FileManager.default.createFile(atPath: server.workspace(of: agent).appendingPathComponent("stop").path, contents: nil)
        let swaps = Int(try await swapper.string("stdout")?.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(fileText(outside + "/f.txt") == "secret\n", "outcomes: \(outcomes)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == ["f.txt"], "nothing created outside: \(outcomes)")
        #expect(round >= 2 && swaps >= 10, "the race ran (\(round) write rounds against \(swaps) swaps, outcomes \(outcomes))")
    }

    @Test func malformedPathsAre400sNamingTheField() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        for path in ["a\u{0}b", String(repeating: "a/", count: 2500), ""] {
            for reply in try await attack(server, agent, path) {
                #expect(reply.status == 400, "\(reply.text.prefix(200))")
                #expect(reply.string("error_code") == "INVALID_REQUEST")
                #expect(reply.string("error")?.contains("path") == true)
            }
        }
    }

    @Test func nonUTF8NamesCreatedByBashDoNotBreakTheTools() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "printf 'latin' > $'caf\\xe9.txt'; mkdir $'d\\xff'; printf 'x' > $'d\\xff/in.txt'")
        let lossy = try await server.read(agent, "caf\u{FFFD}.txt")
        #expect(lossy.string("error_code") == "FILE_NOT_FOUND")
        #expect(try await server.write(agent, "café.txt", "utf8").string("status") == "ok")
        #expect(try await server.read(agent, "café.txt").string("content") == "utf8")
        let listing = try await server.bash(agent, "cat $'caf\\xe9.txt' $'d\\xff/in.txt'; ls | LC_ALL=C sort | od -An -c | tr -s ' '")
        #expect(listing.string("stdout")?.hasPrefix("latinx") == true, "bash's files are untouched")
    }
}

extension stat {
    var isLink: Bool { (st_mode & S_IFMT) == S_IFLNK }
}
