import Foundation
import Testing

/// `PUT /v1/agents/{id}/archive` with hostile archives built by Python's tarfile/zipfile: each is
/// refused (workspace unchanged) or neutralised, and nothing is ever written outside the workspace.
@Suite(.enabled(if: isRoot, "needs root to switch uids"), .serialized)
struct ArchiveImportTests {
    /// An agent with a known tree, its fingerprint, and a scratch directory outside every workspace.
    private func prepared(_ server: TestServer) async throws -> (agent: String, before: [String: String], scratch: URL) {
        let agent = newAgent()
        _ = try await server.bash(agent, "mkdir -p keep && echo original > keep/file.txt && ln -s keep/file.txt inlink")
        return (agent, try ArchiveSupport.fingerprint(server.workspace(of: agent), owners: true), ArchiveSupport.scratch())
    }

    private func expectRefused(_ reply: TestServer.Reply, status: Int, code: String, _ server: TestServer, _ agent: String, _ before: [String: String]) async throws {
        #expect(reply.status == status, "\(reply.text)")
        #expect(reply.string("error_code") == code)
        #expect(reply.string("error")?.contains("nothing was imported") == true)
        #expect(try ArchiveSupport.fingerprint(server.workspace(of: agent), owners: true) == before, "workspace unchanged on refusal")
        // The server is shared with other archive suites running beside this one: a staging directory of
        // theirs may exist for a moment, so the check waits (up to 10 s) for the directory to empty. One
        // this import left behind never goes, and fails the check.
        let list = { try ArchiveSupport.shell("ls -A '\(server.dataRoot.path)/.agentsandbox/imports'") }
        var leftovers = try list()
        for _ in 0..<100 where !leftovers.output.isEmpty {
            try await Task.sleep(for: .milliseconds(100))
            leftovers = try list()
        }
        #expect(leftovers.output.isEmpty, "no staging directory left: \(leftovers.output)")
    }

    @Test func absolutePathsAndDotDotAreRefusedWholesale() async throws {
        let server = try await TestServer.archiveTarget.get()
        let (agent, before, scratch) = try await prepared(server)
        let victim = scratch.appendingPathComponent("victim").path
        for (name, mode) in [(victim, "replace"), ("ok/../../../../\(victim.dropFirst())", "merge"), ("..", "merge")] {
            let tar = try ArchiveSupport.python("""
                t = tarfile.open(OUT, "w:gz")
                for n, data in [("fine.txt", b"fine"), (\(pythonString(name)), b"pwned")]:
                    i = tarfile.TarInfo(n); i.size = len(data); t.addfile(i, io.BytesIO(data))
                t.close()
                """, output: scratch.appendingPathComponent("escape.tgz"))
            try await expectRefused(try await server.importArchive(agent, tar, mode: mode), status: 400, code: "ARCHIVE_UNSAFE", server, agent, before)
            #expect(!FileManager.default.fileExists(atPath: victim))
        }
        let zip = try ArchiveSupport.python("""
            z = zipfile.ZipFile(OUT, "w"); z.writestr("fine.txt", "fine"); z.writestr("../../zip-escape", "pwned"); z.close()
            """, output: scratch.appendingPathComponent("escape.zip"))
        try await expectRefused(try await server.importArchive(agent, zip), status: 400, code: "ARCHIVE_UNSAFE", server, agent, before)
    }

    @Test func devicesFifosAndSpecialBitsAreNeutralised() async throws {
        let server = try await TestServer.archiveTarget.get()
        let (agent, _, scratch) = try await prepared(server)
        let tar = try ArchiveSupport.python("""
            t = tarfile.open(OUT, "w")
            def add(name, type=tarfile.REGTYPE, mode=0o644, data=b"", **kw):
                i = tarfile.TarInfo(name); i.type = type; i.mode = mode; i.size = len(data)
                for k, v in kw.items(): setattr(i, k, v)
                t.addfile(i, io.BytesIO(data) if data else None)
            add("dev/null-copy", tarfile.CHRTYPE, devmajor=1, devminor=3)
            add("dev/sda-copy", tarfile.BLKTYPE, devmajor=8, devminor=0)
            add("dev/fifo", tarfile.FIFOTYPE)
            add("bin/suid", mode=0o4755, data=b"#!/bin/sh\\n")
            add("bin/sgid", mode=0o2711, data=b"x")
            add("shared", tarfile.DIRTYPE, mode=0o1777)
            add("owned-by-root", mode=0o600, data=b"mine", uid=0, gid=0, uname="root", gname="root")
            t.close()
            """, output: scratch.appendingPathComponent("special.tar"))
        let reply = try await server.importArchive(agent, tar)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.int("skipped_count") == 3)
        let skipped = (reply.json["skipped"] as? [[String: Any]])?.compactMap { $0["path"] as? String } ?? []
        #expect(Set(skipped) == ["dev/null-copy", "dev/sda-copy", "dev/fifo"])
        #expect(reply.int("special_bits_cleared") == 3)
        let uid = try #require(try await server.agentInfo(agent).int("uid"))
        let listing = try ArchiveSupport.shell("cd '\(server.workspace(of: agent).path)' && find bin shared owned-by-root -printf '%p %m %U %y\\n' | sort")
        #expect(!FileManager.default.fileExists(atPath: server.workspace(of: agent).appendingPathComponent("dev").path))
        #expect(listing.output == """
            bin 755 \(uid) d
            bin/sgid 711 \(uid) f
            bin/suid 755 \(uid) f
            owned-by-root 600 \(uid) f
            shared 777 \(uid) d

            """)
    }

    @Test func symlinksLeavingTheWorkspaceAndWritesThroughSymlinksNeverLand() async throws {
        let server = try await TestServer.archiveTarget.get()
        let (agent, _, scratch) = try await prepared(server)
        let outside = scratch.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        let tar = try ArchiveSupport.python("""
            t = tarfile.open(OUT, "w:gz")
            def link(name, target):
                i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
            def file(name, data=b"pwned"):
                i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
            link("abs", \(pythonString(outside.path)))
            file("abs/pwned")
            link("up", "../../../../../../..\(outside.path)")
            file("up/pwned")
            link("sneaky", "sub/../../..")
            link("sub/loop", "..")
            file("sub/loop/ok-but-through-a-link")
            link("inner", "keep")
            file("inner/through-in-tree-link")
            link("good", "keep/file.txt")
            link("sub/good-up", "../keep")
            t.close()
            """, output: scratch.appendingPathComponent("links.tgz"))
        let reply = try await server.importArchive(agent, tar)
        #expect(reply.status == 200, "\(reply.text)")
        let reasons = Dictionary(uniqueKeysWithValues: ((reply.json["skipped"] as? [[String: Any]]) ?? []).map { ($0["path"] as! String, $0["reason"] as! String) })
        #expect(reasons["abs"]?.contains("leaves the workspace") == true)
        #expect(reasons["up"]?.contains("leaves the workspace") == true)
        #expect(reasons["sneaky"]?.contains("leaves the workspace") == true)
        #expect(reasons["sub/loop/ok-but-through-a-link"]?.contains("through a symlink") == true)
        #expect(reasons["inner/through-in-tree-link"]?.contains("through a symlink") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty, "nothing written outside")
        let workspace = server.workspace(of: agent).path
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: workspace + "/good") == "keep/file.txt")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: workspace + "/sub/good-up") == "../keep")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: workspace + "/sub/loop") == "..")
        // The skipped symlinks' names became plain directories holding the files: inside the workspace.
        #expect(try String(contentsOfFile: workspace + "/abs/pwned", encoding: .utf8) == "pwned")
        #expect(try String(contentsOfFile: workspace + "/keep/file.txt", encoding: .utf8) == "original\n")
        #expect(!FileManager.default.fileExists(atPath: workspace + "/keep/through-in-tree-link"))

        // The same tricks in a zip (symlinks live in the central directory's unix mode).
        let zip = try ArchiveSupport.python("""
            z = zipfile.ZipFile(OUT, "w")
            def link(name, target):
                i = zipfile.ZipInfo(name); i.create_system = 3; i.external_attr = (0o120777 << 16); z.writestr(i, target)
            link("zabs", \(pythonString(outside.path)))
            z.writestr("zabs/pwned", "pwned")
            link("zgood", "keep/file.txt")
            z.close()
            """, output: scratch.appendingPathComponent("links.zip"))
        let zipped = try await server.importArchive(agent, zip)
        #expect(zipped.status == 200, "\(zipped.text)")
        #expect(zipped.int("skipped_count") == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty, "nothing written outside")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: workspace + "/zgood") == "keep/file.txt")
    }

    @Test func hardLinksOnlyToFilesEarlierInTheArchive() async throws {
        let server = try await TestServer.archiveTarget.get()
        let (agent, before, scratch) = try await prepared(server)
        let tar = try ArchiveSupport.python("""
            t = tarfile.open(OUT, "w")
            def add(name, type=tarfile.REGTYPE, data=b"", linkname=""):
                i = tarfile.TarInfo(name); i.type = type; i.size = len(data); i.linkname = linkname
                t.addfile(i, io.BytesIO(data) if data else None)
            add("a.txt", data=b"content of a")
            add("b.txt", tarfile.LNKTYPE, linkname="a.txt")
            add("to-workspace-file", tarfile.LNKTYPE, linkname="keep/file.txt")
            add("to-nowhere", tarfile.LNKTYPE, linkname="not/in/archive")
            t.close()
            """, output: scratch.appendingPathComponent("hard.tar"))
        let reply = try await server.importArchive(agent, tar)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.int("hard_links") == 1)
        #expect(reply.int("skipped_count") == 2)
        let workspace = server.workspace(of: agent).path
        var a = stat(), b = stat()
        #expect(stat(workspace + "/a.txt", &a) == 0 && stat(workspace + "/b.txt", &b) == 0)
        #expect(a.st_ino == b.st_ino, "an in-archive hard link stays a hard link")
        #expect(!FileManager.default.fileExists(atPath: workspace + "/to-workspace-file"))

        for target in ["/etc/passwd", "../../../../etc/passwd"] {
            let outside = try ArchiveSupport.python("""
                t = tarfile.open(OUT, "w"); i = tarfile.TarInfo("pw"); i.type = tarfile.LNKTYPE; i.linkname = \(pythonString(target)); t.addfile(i); t.close()
                """, output: scratch.appendingPathComponent("hard-out.tar"))
            let fresh = try await prepared(server)
            try await expectRefused(try await server.importArchive(fresh.agent, outside), status: 400, code: "ARCHIVE_UNSAFE", server, fresh.agent, fresh.before)
        }
        _ = before
    }

    @Test func gigabyteBombIsStoppedByTheLimitQuickly() async throws {
        let server = try await TestServer.archiveTarget.get()
        let (agent, before, scratch) = try await prepared(server)
        // A tar holding one 1 GiB file of zeros, gzip'd as concatenated members (one compressed MiB
        // repeated): about 1 MB on the wire, built in a fraction of a second.
        let bomb = try ArchiveSupport.python("""
            i = tarfile.TarInfo("zeros.bin"); i.size = 1 << 30
            mib = gzip.compress(b"\\0" * (1 << 20), 9)
            with open(OUT, "wb") as f:
                f.write(gzip.compress(i.tobuf(format=tarfile.PAX_FORMAT)))
                for _ in range(1024): f.write(mib)
                f.write(gzip.compress(b"\\0" * 1024))
            """, output: scratch.appendingPathComponent("bomb.tgz"))
        #expect(bomb.count < 2 << 20)
        let started = Date()
        let reply = try await server.importArchive(agent, bomb)
        try await expectRefused(reply, status: 413, code: "ARCHIVE_TOO_LARGE", server, agent, before)
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test func garbageTruncatedAndMtreeInputsAreInvalid() async throws {
        let server = try await TestServer.archiveTarget.get()
        let (agent, before, scratch) = try await prepared(server)
        try await expectRefused(try await server.importArchive(agent, Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7919) })), status: 400, code: "ARCHIVE_INVALID", server, agent, before)
        let good = try ArchiveSupport.python("""
            t = tarfile.open(OUT, "w:gz")
            for n in range(20):
                data = os.urandom(50000); i = tarfile.TarInfo(f"f{n}"); i.size = len(data); t.addfile(i, io.BytesIO(data))
            t.close()
            """, output: scratch.appendingPathComponent("good.tgz"))
        try await expectRefused(try await server.importArchive(agent, good.prefix(good.count / 2), mode: "replace"), status: 400, code: "ARCHIVE_INVALID", server, agent, before)
        // mtree "archives" name files on the server's disk: never read.
        let mtree = Data("#mtree\n./shadow type=file contents=/etc/shadow\n".utf8)
        try await expectRefused(try await server.importArchive(agent, mtree), status: 400, code: "ARCHIVE_INVALID", server, agent, before)
        let mode = try await server.importArchive(agent, good, mode: "overwrite")
        #expect(mode.status == 400)
        #expect(mode.string("error")?.contains("mode") == true)
    }
}

/// A Python string literal for `text`.
func pythonString(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
}
