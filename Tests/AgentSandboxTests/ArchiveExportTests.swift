import Foundation
import Testing

/// `GET /v1/agents/{id}/archive`: what real tools see in the archive, headers, and round trips
/// through import into a fresh agent.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct ArchiveExportTests {
    @Test func tarAndBsdtarListExactlyTheWorkspaceWithModesAndSymlinks() async throws {
        let server = try await TestServer.archiveTarget.get()
        let agent = newAgent()
        try await server.seedWorkspace(agent)
        let reply = try await server.exportArchive(agent)
        #expect(reply.status == 200)
        #expect(reply.headers["content-type"] == "application/gzip")
        #expect(reply.headers["content-disposition"] == "attachment; filename=\"\(agent).tar.gz\"")
        #expect(reply.headers["transfer-encoding"]?.lowercased() == "chunked", "streamed, not buffered")
        let scratch = ArchiveSupport.scratch()
        let file = scratch.appendingPathComponent("out.tar.gz")
        try reply.body.write(to: file)

        let listing = try ArchiveSupport.shell("tar -tzvf '\(file.path)'")
        #expect(listing.status == 0, "\(listing.output)")
        // "MODE OWNER SIZE DATE TIME NAME [-> TARGET]"
        var entries: [String: (mode: String, rest: String)] = [:]
        for line in listing.output.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            entries[String(fields[5].split(separator: " -> ").first!)] = (String(fields[0]), String(fields[5]))
        }
        let expected: [String: String] = [
            "docs/": "drwxr-x---", "docs/empty/": "drwxr-xr-x", "docs/readme.md": "-rw-------",
            "src/": "drwxr-xr-x", "src/lib/": "drwxr-xr-x", "src/lib/blob.bin": "-rw-r-----", "src/main.py": "-rwxr-xr-x",
            "src/readme-link": "lrwxrwxrwx", "dangling": "lrwxrwxrwx", "sp ace/": "drwxr-xr-x", "sp ace/f ile": "-rw-r--r--",
            "empty.txt": "-rw-r--r--",
        ]
        #expect(Set(entries.keys) == Set(expected.keys), "exactly the workspace, no FIFO, no root entry: \(listing.output)")
        for (name, mode) in expected { #expect(entries[name]?.mode == mode, "\(name)") }
        #expect(entries["src/readme-link"]?.rest == "src/readme-link -> ../docs/readme.md")
        #expect(entries["dangling"]?.rest == "dangling -> missing")

        // The other formats, through bsdtar.
        for (format, type) in [("tar", "application/x-tar"), ("zip", "application/zip"), ("tar.zst", "application/zstd")] {
            let other = try await server.exportArchive(agent, format: format)
            #expect(other.status == 200)
            #expect(other.headers["content-type"] == type)
            #expect(other.headers["content-disposition"] == "attachment; filename=\"\(agent).\(format)\"")
            let path = scratch.appendingPathComponent("out.\(format)")
            try other.body.write(to: path)
            let names = try ArchiveSupport.shell("bsdtar -tf '\(path.path)' | sort")
            #expect(names.status == 0)
            #expect(names.output.split(separator: "\n").map(String.init) == expected.keys.sorted(), "\(format)")
            let verbose = try ArchiveSupport.shell("bsdtar -tvf '\(path.path)' | grep readme-link")
            #expect(verbose.output.contains("src/readme-link -> ../docs/readme.md"), "\(format): \(verbose.output)")
        }
    }

    @Test(arguments: ["tar.gz", "zip", "tar.zst", "tar"])
    func exportThenImportIntoAFreshAgentIsByteIdentical(format: String) async throws {
        let server = try await TestServer.archiveTarget.get()
        let (source, target) = (newAgent(), newAgent())
        try await server.seedWorkspace(source)
        let archive = try await server.exportArchive(source, format: format)
        #expect(archive.status == 200)
        let reply = try await server.importArchive(target, archive.body, mode: "replace")
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.int("files") == 5)
        #expect(reply.int("directories") == 5)
        #expect(reply.int("symlinks") == 2)
        #expect(reply.int("skipped_count") == 0)

        var expected = try ArchiveSupport.fingerprint(server.workspace(of: source))
        expected["pipe"] = nil  // FIFOs are not exported
        let imported = try ArchiveSupport.fingerprint(server.workspace(of: target))
        #expect(imported == expected)
        // Everything belongs to the target agent, the root stays 0700.
        let uid = try #require(try await server.agentInfo(target).int("uid"))
        let owners = try ArchiveSupport.shell("find '\(server.workspace(of: target).path)' -printf '%U:%G\\n' | sort -u")
        #expect(owners.output == "\(uid):\(uid)\n")
        var info = stat()
        #expect(lstat(server.workspace(of: target).path, &info) == 0 && info.st_mode & 0o777 == 0o700)
        // The agent can use what it received.
        let check = try await server.bash(target, "cat src/readme-link && echo > src/new && echo ok")
        #expect(check.string("stdout") == "notes\nok\n")
    }

    @Test func exportSurvivesFilesVanishingShrinkingAndGrowingMidway() async throws {
        let server = try await TestServer.archiveTarget.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "for i in $(seq 1 300); do head -c 65536 /dev/zero > f$i; done; mkdir d; for i in $(seq 1 50); do mkdir d/$i; done")
        async let churn = server.bash(agent, "for r in 1 2 3; do for i in $(seq 1 300); do case $((i % 3)) in 0) rm -f f$i;; 1) : > f$i;; 2) head -c 200000 /dev/zero >> f$i;; esac; done; rm -rf d; mkdir d; done", timeout: 30)
        for _ in 0..<3 {
            let reply = try await server.exportArchive(agent)
            #expect(reply.status == 200)
            let file = ArchiveSupport.scratch().appendingPathComponent("churn.tar.gz")
            try reply.body.write(to: file)
            let listing = try ArchiveSupport.shell("tar -tzf '\(file.path)' > /dev/null && echo valid")
            #expect(listing.output == "valid\n", "\(listing.output)")
        }
        _ = try await churn
        #expect(try await server.bash(agent, "echo alive").string("stdout") == "alive\n")
    }

    @Test func unknownAgentAndUnknownFormatAreRefused() async throws {
        let server = try await TestServer.archiveTarget.get()
        let missing = try await server.exportArchive(newAgent())
        #expect(missing.status == 404)
        #expect(missing.string("error_code") == "AGENT_NOT_FOUND")
        let agent = newAgent()
        _ = try await server.bash(agent, "true")
        let format = try await server.exportArchive(agent, format: "rar")
        #expect(format.status == 400)
        #expect(format.string("error")?.contains("format") == true)
        let unauthorised = try await server.request("GET", "/v1/agents/\(agent)/archive", headers: [:])
        #expect(unauthorised.status == 401)
    }
}
