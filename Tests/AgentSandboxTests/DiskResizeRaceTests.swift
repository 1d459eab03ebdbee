#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// Offline resizes (lowering `limits.disk_bytes`) while other mount namespaces hold a copy of the
/// agent's mount — what every sandbox being set up on the host does for a moment. The file system must
/// stay one superblock over one image, mounted, with every file, and consistent afterwards.
@Suite(.serialized, .enabled(if: isRoot, "needs root for loop devices and mounts"))
struct DiskResizeRaceTests {
    private func patch(_ server: TestServer, _ agent: String, diskBytes: Int) async throws -> TestServer.Reply {
        try await server.request("PATCH", "/v1/agents/\(agent)", body: try JSONSerialization.data(withJSONObject: ["limits": ["disk_bytes": diskBytes]]))
    }

    private func image(_ server: TestServer, _ agent: String) -> String {
        server.dataRoot.appendingPathComponent(".agentsandbox/disks/\(agent).img").path
    }

    /// Loop devices bound to `image` (`losetup -j`): one while it is mounted, in any namespace.
    private func loopDevices(of image: String) throws -> Int {
        Int(try ArchiveSupport.shell("losetup -j '\(image)' | grep -c . || true").output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    private func isMounted(_ server: TestServer, _ agent: String) -> Bool {
        let mountPoint = server.dataRoot.appendingPathComponent(agent).path
        return readProcFile("/proc/\(server.pid)/mountinfo").split(separator: "\n").contains { $0.split(separator: " ").dropFirst(4).first.map(String.init) == mountPoint }
    }

    @Test func anOfflineResizeWaitsForAMountNamespaceThatStillHoldsTheDisk() async throws {
        let server = try await TestServer(extraArguments: ["--disk-bytes", String(64 << 20)]).start()
        defer { server.removeDataRoot() }
        let agent = newAgent()
        let seeded = try await server.bash(agent, "head -c 8000000 /dev/urandom > data && echo keep > small && cksum data small")
        let sums = try #require(seeded.string("stdout"))
        #expect(sums.contains(" 8000000 data"), "\(seeded.text)")

        // A private mount namespace made now holds the agent's file system for 3 seconds after the
        // server unmounts it (as a sandbox being set up does for a moment).
        let ready = server.dataRoot.deletingLastPathComponent().appendingPathComponent("holder.ready").path
        try ArchiveSupport.shell("unshare -m --propagation private sh -c 'touch \(ready); exec sleep 3' >/dev/null 2>&1 </dev/null &")
        while access(ready, F_OK) != 0 { try await Task.sleep(for: .milliseconds(10)) }

        let lowered = try await patch(server, agent, diskBytes: 40 << 20)
        #expect(lowered.status == 200, "\(lowered.text)")
        #expect(try loopDevices(of: image(server, agent)) == 1, "one loop device, one superblock over the image")
        #expect(isMounted(server, agent), "the workspace is mounted again")
        #expect(try await server.bash(agent, "cksum data small").string("stdout") == sums, "every file kept")
        let size = Int(try await server.bash(agent, "df -B1 --output=size . | tail -1").string("stdout")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(size > 24 << 20 && size <= 40 << 20, "the file system shrank: \(size)")

        // Once the holder is gone: another offline resize, then a clean file system after a graceful stop.
        try await Task.sleep(for: .seconds(3))
        #expect(try await patch(server, agent, diskBytes: 36 << 20).status == 200)
        #expect(try await server.bash(agent, "cksum data small").string("stdout") == sums)
        #expect(await server.stopGracefully() == 0)
        let check = try ArchiveSupport.shell("e2fsck -fn '\(image(server, agent))' 2>&1")
        #expect(check.status == 0, "the image is consistent: \(check.output)")
    }

    @Test func parallelOfflineResizesAcrossTwoServersKeepEveryWorkspaceMountedAndIntact() async throws {
        let servers = [try await TestServer(extraArguments: ["--disk-bytes", String(64 << 20)]).start(),
                       try await TestServer(extraArguments: ["--disk-bytes", String(64 << 20)]).start()]
        defer { for server in servers { server.removeDataRoot() } }
        let agents = servers.flatMap { server in (0..<4).map { _ in (server, newAgent()) } }
        var sums: [String: String] = [:]
        for (server, agent) in agents {
            sums[agent] = try await server.bash(agent, "head -c 2000000 /dev/urandom > data && echo \(agent) > id && cksum data id").string("stdout")
        }
        // Every agent: a call (a sandbox starts: a mount namespace copying every host mount), then an
        // offline resize, twice — all agents of both servers at once.
        let failures = try await withThrowingTaskGroup(of: String?.self) { group in
            for (server, agent) in agents {
                group.addTask {
                    for bytes in [48 << 20, 40 << 20] {
                        _ = try await server.bash(agent, "true")
                        var reply = try await patch(server, agent, diskBytes: bytes)
                        while reply.status == 429 {  // calls of its own still running: retry, as the error says
                            try await Task.sleep(for: .milliseconds(50))
                            reply = try await patch(server, agent, diskBytes: bytes)
                        }
                        if reply.status != 200 { return "\(agent) → \(bytes): \(reply.status) \(reply.text)" }
                    }
                    return nil
                }
            }
            return try await group.reduce(into: [String]()) { if let failure = $1 { $0.append(failure) } }
        }
        #expect(failures.isEmpty, "\(failures)")
        for (server, agent) in agents {
            #expect(isMounted(server, agent), "agent \(agent)'s workspace is mounted")
            #expect(try await server.bash(agent, "cksum data id").string("stdout") == sums[agent], "agent \(agent)'s files are intact")
            #expect(try await server.agentInfo(agent).int("disk_limit_bytes") == 40 << 20)
        }
        for server in servers { #expect(await server.stopGracefully() == 0) }
        for (server, agent) in agents {
            let check = try ArchiveSupport.shell("e2fsck -fn '\(image(server, agent))' 2>&1")
            #expect(check.status == 0, "agent \(agent)'s image is consistent: \(check.output)")
        }
    }
}
