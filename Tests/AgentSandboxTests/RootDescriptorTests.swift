import Foundation
import Testing

/// The workspace root a file tool opens once per agent follows the directory: deleting and re-creating
/// the agent, replacing the workspace by an archive import, or removing the directory by hand.
@Suite(.enabled(if: isRoot, "needs root to switch uids"), .serialized)
struct RootDescriptorTests {
    @Test func deletedAndRecreatedAgentReadsItsNewWorkspace() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.write(agent, "a.txt", "first life\n")
        #expect(try await server.read(agent, "a.txt").string("content") == "first life\n")
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)").status == 200)
        #expect(try await server.read(agent, "a.txt").status == 410)
        #expect(try await server.request("POST", "/v1/agents", body: try JSONSerialization.data(withJSONObject: ["agent_id": agent])).status < 300)
        #expect(try await server.read(agent, "a.txt").string("error_code") == "FILE_NOT_FOUND")
        _ = try await server.write(agent, "a.txt", "second life\n")
        #expect(try await server.read(agent, "a.txt").string("content") == "second life\n")
        #expect(fileText(server.file(agent, "a.txt")) == "second life\n", "written into the directory on disk")
    }

    @Test func replaceImportIsSeenByTheNextRead() async throws {
        let server = try await TestServer.archiveTarget.get()
        let agent = newAgent()
        _ = try await server.write(agent, "a.txt", "before import\n")
        #expect(try await server.read(agent, "a.txt").string("content") == "before import\n")
        let tar = try ArchiveSupport.python("""
            t = tarfile.open(OUT, "w")
            i = tarfile.TarInfo("a.txt"); data = b"after import\\n"; i.size = len(data); t.addfile(i, io.BytesIO(data))
            t.close()
            """, output: ArchiveSupport.scratch().appendingPathComponent("replace.tar"))
        #expect(try await server.importArchive(agent, tar, mode: "replace").status == 200)
        #expect(try await server.read(agent, "a.txt").string("content") == "after import\n")
        _ = try await server.write(agent, "b.txt", "new\n")
        #expect(fileText(server.file(agent, "b.txt")) == "new\n", "written into the imported tree")
    }

    @Test func workspaceRemovedByHandIsNotServedFromTheOldDirectory() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.write(agent, "a.txt", "old\n")
        #expect(try await server.read(agent, "a.txt").string("content") == "old\n")
        let root = server.workspace(of: agent).path
        let info = try #require(fileStatus(root))
        #expect(try ArchiveSupport.shell("rm -rf '\(root)' && mkdir -m 700 '\(root)' && chown \(info.st_uid):\(info.st_gid) '\(root)' && echo fresh > '\(root)/a.txt'").status == 0)
        #expect(try await server.read(agent, "a.txt").string("content") == "fresh\n")
    }
}
