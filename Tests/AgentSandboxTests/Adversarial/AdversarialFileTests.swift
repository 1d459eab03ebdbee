import Foundation
import Testing

/// Attacks on other agents' files and the server's own files. Every case checks the file system.
@Suite(.enabled(if: isRoot, "needs root"))
struct AdversarialFileTests {
    /// Two agents on the default (full isolation) server; B has a secret file.
    private func setUp() async throws -> (TestServer, attacker: String, victim: String, secret: URL) {
        let server = try await TestServer.shared.get()
        let (a, b) = (newAgent(), newAgent())
        _ = try await server.bash(a, "true")
        _ = try await server.bash(b, "echo secret-of-b > secret.txt")
        return (server, a, b, server.workspace(of: b).appendingPathComponent("secret.txt"))
    }

    @Test func cannotReadAnotherWorkspaceByHostPath() async throws {
        let (server, a, _, secret) = try await setUp()
        let reply = try await server.bash(a, "cat \(secret.path)")
        #expect(reply.int("exit_code") != 0)
        #expect(reply.string("stdout")?.contains("secret-of-b") == false)
    }

    @Test func cannotWriteIntoAnotherWorkspace() async throws {
        let (server, a, b, _) = try await setUp()
        let target = server.workspace(of: b).appendingPathComponent("planted.txt").path
        _ = try await server.bash(a, "echo x > \(target); mkdir -p \(server.workspace(of: b).path)/dir")
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(!FileManager.default.fileExists(atPath: server.workspace(of: b).appendingPathComponent("dir").path))
    }

    @Test func dataRootShowsOnlyTheAgentsOwnWorkspace() async throws {
        let (server, a, b, _) = try await setUp()
        let reply = try await server.bash(a, "ls -a \(server.dataRoot.path)")
        #expect(reply.string("stdout")?.contains(a) == true)
        #expect(reply.string("stdout")?.contains(b) == false)
        #expect(reply.string("stdout")?.contains(".agentsandbox") == false)
    }

    @Test func cannotReadTheServerDatabase() async throws {
        let (server, a, _, _) = try await setUp()
        let database = server.dataRoot.appendingPathComponent(".agentsandbox/agentsandbox.sqlite").path
        let reply = try await server.bash(a, "cat \(database) | head -c 100; ls \(server.dataRoot.path)/.agentsandbox")
        #expect(reply.string("stdout")?.contains("SQLite") == false)
        let cgroupReply = try await server.bash(a, "cat /sys/fs/cgroup/unified/cgroup.procs 2>&1 | head -3")
        #expect(cgroupReply.string("stdout")?.contains("\(server.pid)") == false, "the server's pid does not leak through /sys")
    }

    @Test func symlinkToAnotherWorkspaceDoesNotOpenIt() async throws {
        let (server, a, b, secret) = try await setUp()
        let reply = try await server.bash(a, "ln -s \(server.workspace(of: b).path) other; cat other/secret.txt; ln -s \(secret.path) s2; cat s2")
        #expect(reply.string("stdout")?.contains("secret-of-b") == false)
        #expect(try String(contentsOf: secret, encoding: .utf8) == "secret-of-b\n", "the victim's file is unchanged")
    }

    @Test func hardLinksToFilesOutsideAreRefused() async throws {
        let (server, a, _, secret) = try await setUp()
        var before = stat()
        stat("/etc/shadow", &before)
        var secretBefore = stat()
        stat(secret.path, &secretBefore)
        _ = try await server.bash(a, "ln /etc/shadow shadow; ln /etc/passwd passwd; ln \(secret.path) stolen")
        var after = stat()
        stat("/etc/shadow", &after)
        var secretAfter = stat()
        stat(secret.path, &secretAfter)
        #expect(after.st_nlink == before.st_nlink, "no new hard link to /etc/shadow")
        #expect(secretAfter.st_nlink == secretBefore.st_nlink, "no new hard link to another agent's file")
        #expect(!FileManager.default.fileExists(atPath: server.workspace(of: a).appendingPathComponent("shadow").path))
    }

    @Test func deviceNodesCannotBeCreated() async throws {
        let (server, a, _, _) = try await setUp()
        let reply = try await server.bash(a, "mknod mem c 1 1; mknod disk b 8 0; ls -l")
        #expect(reply.string("stderr")?.contains("Operation not permitted") == true)
        #expect(!FileManager.default.fileExists(atPath: server.workspace(of: a).appendingPathComponent("mem").path))
    }

    @Test func fifoInTheWorkspaceCannotHangTheServer() async throws {
        let (server, a, _, _) = try await setUp()
        let reply = try await server.bash(a, "mkfifo pipe; cat pipe", timeout: 1)
        #expect(reply.string("error_code") == "TIMEOUT")
        #expect(try await server.bash(a, "echo alive").string("stdout") == "alive\n")
    }

    @Test func veryLongAndNonUTF8NamesAreHandled() async throws {
        let (server, a, _, _) = try await setUp()
        let reply = try await server.bash(a, """
            touch "$(printf 'a%.0s' $(seq 255))" && echo ok255
            touch "$(printf 'b%.0s' $(seq 256))" || echo refused256
            d=.; for i in $(seq 40); do d="$d/$(printf 'd%.0s' $(seq 200))"; done; mkdir -p "$d" && echo deep
            touch $'bad\\xff\\xfename'; ls | wc -l
            """)
        let stdout = try #require(reply.string("stdout"))
        #expect(stdout.contains("ok255") && stdout.contains("refused256") && stdout.contains("deep"))
        let info = try await server.agentInfo(a)
        #expect(info.status == 200)
        let du = try ArchiveSupport.shell("du -s -B1 '\(server.workspace(of: a).path)' | cut -f1")
        #expect(info.int("disk_usage_bytes") == Int(du.output.trimmingCharacters(in: .whitespacesAndNewlines)), "disk usage counts the whole deep tree, as du does")
        let listing = try await server.bash(a, "ls")
        #expect(listing.string("stdout")?.contains("bad\u{FFFD}\u{FFFD}name") == true, "invalid UTF-8 is replaced")
        #expect(try await server.request("DELETE", "/v1/agents/\(a)").status == 200)
        #expect(!FileManager.default.fileExists(atPath: server.workspace(of: a).path), "deep and odd names are removed on delete")
    }

    @Test func privateTmpIsSizeLimitedAndNotTheHosts() async throws {
        let (server, a, _, _) = try await setUp()
        let marker = "agent-tmp-\(UUID().uuidString)"
        let reply = try await server.bash(a, "echo x > /tmp/\(marker); dd if=/dev/zero of=/tmp/fill bs=1M count=2000 2>&1; df -m /tmp | tail -1", timeout: 60)
        #expect(reply.string("stdout")?.contains("No space left") == true)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)"), "the agent's /tmp is private")
    }
}
