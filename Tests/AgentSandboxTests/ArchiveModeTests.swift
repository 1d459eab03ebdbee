import Foundation
import Testing

/// Import modes, configured limits, and the `agent-sandbox export` / `import` commands.
@Suite(.enabled(if: isRoot, "needs root to switch uids"), .serialized)
struct ArchiveModeTests {
    private func tarball(_ files: [String: String], in scratch: URL, name: String = "in.tgz") throws -> Data {
        let entries = files.map { "(\(pythonString($0.key)), \(pythonString($0.value)))" }.joined(separator: ", ")
        return try ArchiveSupport.python("""
            t = tarfile.open(OUT, "w:gz")
            for n, data in [\(entries)]:
                data = data.encode(); i = tarfile.TarInfo(n); i.size = len(data); i.mode = 0o644; t.addfile(i, io.BytesIO(data))
            t.close()
            """, output: scratch.appendingPathComponent(name))
    }

    @Test func replaceSwapsTheWholeTreeAndMergeKeepsOtherFiles() async throws {
        let server = try await TestServer.archiveTarget.get()
        let scratch = ArchiveSupport.scratch()
        let archive = try tarball(["shared/a.txt": "from archive", "new.txt": "new", "clash": "file in archive", "dir-in-archive/x": "x"], in: scratch)

        let merged = newAgent()
        _ = try await server.bash(merged, "mkdir -p shared clash && echo old > shared/a.txt && echo keep > shared/b.txt && echo mine > mine.txt && echo f > dir-in-archive")
        let reply = try await server.importArchive(merged, archive, mode: "merge")
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.string("mode") == "merge")
        #expect(reply.int("files") == 3, "the clashing file is not counted")
        #expect((reply.json["skipped"] as? [[String: Any]])?.first?["path"] as? String == "clash")
        let listing = try await server.bash(merged, "for f in $(find . -type f | sort); do echo \"$f=$(cat $f)\"; done")
        #expect(listing.string("stdout") == "./dir-in-archive/x=x\n./mine.txt=mine\n./new.txt=new\n./shared/a.txt=from archive\n./shared/b.txt=keep\n",
                "archive wins per path; others kept; a directory replaces a file")

        let replaced = newAgent()
        _ = try await server.bash(replaced, "mkdir -p shared && echo old > shared/a.txt && echo mine > mine.txt")
        let swapped = try await server.importArchive(replaced, archive, mode: "replace")
        #expect(swapped.status == 200, "\(swapped.text)")
        let after = try await server.bash(replaced, "find . | sort")
        #expect(after.string("stdout") == ".\n./clash\n./dir-in-archive\n./dir-in-archive/x\n./new.txt\n./shared\n./shared/a.txt\n")
    }

    @Test func configuredEntryAndByteLimitsRefuseBeforeTouchingTheWorkspace() async throws {
        let server = try await TestServer(extraArguments: ["--archive-max-entries", "10", "--archive-max-bytes", "100000"]).start()
        defer { server.stop() }
        let scratch = ArchiveSupport.scratch()
        let agent = newAgent()
        _ = try await server.bash(agent, "echo kept > kept.txt")
        let many = try tarball(Dictionary(uniqueKeysWithValues: (0..<20).map { ("f\($0)", "x") }), in: scratch, name: "many.tgz")
        let tooMany = try await server.importArchive(agent, many, mode: "replace")
        #expect(tooMany.status == 413)
        #expect(tooMany.string("error_code") == "ARCHIVE_TOO_LARGE")
        #expect(tooMany.string("error")?.contains("10 entries") == true)
        let big = try tarball(["a": String(repeating: "a", count: 60000), "b": String(repeating: "b", count: 60000)], in: scratch, name: "big.tgz")
        let tooBig = try await server.importArchive(agent, big, mode: "replace")
        #expect(tooBig.status == 413)
        #expect(tooBig.string("error")?.contains("100000 bytes") == true)
        #expect(try await server.bash(agent, "ls").string("stdout") == "kept.txt\n")
    }

    @Test func cliExportsAndImportsAgainstARunningServer() async throws {
        let server = try await TestServer.archiveTarget.get()
        let (source, target) = (newAgent(), newAgent())
        try await server.seedWorkspace(source)
        let scratch = ArchiveSupport.scratch()
        let binary = TestServer.buildDirectory.appendingPathComponent("agent-sandbox").path
        let environment = "AGENT_SANDBOX_URL=\(server.baseURL) AGENT_SANDBOX_API_KEY=\(server.apiKey)"
        let export = try ArchiveSupport.shell("\(environment) '\(binary)' export \(source) --format tar.zst -o out.tar.zst", in: scratch)
        #expect(export.status == 0, "\(export.output)")
        #expect(try ArchiveSupport.shell("bsdtar -tf out.tar.zst | wc -l", in: scratch).output == "12\n")
        let imported = try ArchiveSupport.shell("'\(binary)' import \(target) out.tar.zst --mode replace --url \(server.baseURL) --api-key \(server.apiKey)", in: scratch)
        #expect(imported.status == 0, "\(imported.output)")
        #expect(imported.output.contains("5 files, 5 directories, 2 symlinks"), "\(imported.output)")
        var expected = try ArchiveSupport.fingerprint(server.workspace(of: source))
        expected["pipe"] = nil
        #expect(try ArchiveSupport.fingerprint(server.workspace(of: target)) == expected)

        let refused = try ArchiveSupport.shell("head -c 3000 /dev/urandom > junk && \(environment) '\(binary)' import \(target) junk", in: scratch)
        #expect(refused.status != 0)
        #expect(refused.output.contains("ARCHIVE_INVALID"), "\(refused.output)")
        let noKey = try ArchiveSupport.shell("AGENT_SANDBOX_API_KEY= '\(binary)' export \(source) --url \(server.baseURL)", in: scratch)
        #expect(noKey.status != 0)
        #expect(noKey.output.contains("API key"))
    }
}
