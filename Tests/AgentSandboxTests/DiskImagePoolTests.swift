#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// `DiskImagePool`: a capped agent of the default cap gets an image made ahead (renamed into place, no
/// mkfs on the create), the pool refills behind it, and an agent asking for another cap gets a fresh one.
/// Real loop devices and mounts, so root only.
@Suite(.serialized, .enabled(if: isRoot, "needs root for loop devices and mounts"))
struct DiskImagePoolTests {
    static let cap = 32 << 20

    /// The pool's ready images: file name → inode.
    private func ready(_ server: TestServer) -> [String: UInt] {
        let pool = server.dataRoot.appendingPathComponent(".agentsandbox/disks/pool").path
        var found: [String: UInt] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: pool)) ?? [] where name.hasPrefix("\(Self.cap).") && name.hasSuffix(".img") {
            var info = stat()
            if stat(pool + "/" + name, &info) == 0 { found[name] = UInt(info.st_ino) }
        }
        return found
    }

    /// Waits (generously: a loaded machine runs mkfs slowly) until the pool holds `count` images.
    private func waitForPool(_ server: TestServer, count: Int, excluding old: Set<String> = []) async throws -> [String: UInt] {
        for _ in 0..<600 {
            let images = ready(server)
            if images.count >= count, images.keys.contains(where: { !old.contains($0) }) || old.isEmpty { return images }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the pool never held \(count) images: \(ready(server).keys.sorted())")
        return ready(server)
    }

    private func inode(_ server: TestServer, agent: String) -> UInt? {
        var info = stat()
        let path = server.dataRoot.appendingPathComponent(".agentsandbox/disks/\(agent).img").path
        return stat(path, &info) == 0 ? UInt(info.st_ino) : nil
    }

    @Test func aCappedCreateTakesAReadyImageAndThePoolRefills() async throws {
        let server = try await TestServer(extraArguments: ["--disk-bytes", String(Self.cap)]).start()
        defer { server.removeDataRoot() }
        let before = try await waitForPool(server, count: 2)

        let agent = newAgent()
        #expect(try await server.post("/v1/agents", json: ["agent_id": agent]).status == 201)
        let taken = try #require(inode(server, agent: agent))
        #expect(Set(before.values).contains(taken), "the agent's image is one the pool had made")
        let wrote = try await server.bash(agent, "echo pooled > f && cat f && dd if=/dev/zero of=big bs=1M count=48 2>&1 | grep -o 'No space left on device'")
        #expect(wrote.string("stdout")?.hasPrefix("pooled\n") == true, "\(wrote.text)")
        #expect(wrote.string("stdout")?.contains("No space left on device") == true, "the pooled image has the cap: \(wrote.text)")
        #expect(try await server.agentInfo(agent).int("disk_limit_bytes") == Self.cap)

        let after = try await waitForPool(server, count: 2, excluding: Set(before.keys))
        #expect(!after.values.contains(taken))
        #expect(after.keys.contains { !before.keys.contains($0) }, "a new image was made for the pool")
    }

    @Test func anotherCapGetsAFreshImage() async throws {
        let server = try await TestServer(extraArguments: ["--disk-bytes", String(Self.cap)]).start()
        defer { server.removeDataRoot() }
        let pooled = try await waitForPool(server, count: 2)

        let agent = newAgent()
        let created = try await server.post("/v1/agents", json: ["agent_id": agent, "limits": ["disk_bytes": 2 * Self.cap]])
        #expect(created.status == 201, "\(created.text)")
        let image = try #require(inode(server, agent: agent))
        #expect(!Set(pooled.values).contains(image), "not a pooled image of the default cap")
        #expect(ready(server).count == 2, "the pool was left alone")
        #expect(try await server.agentInfo(agent).int("disk_limit_bytes") == 2 * Self.cap)
    }
}
