#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// Disk images are mounted on first use and unmounted once idle (`--disk-idle`); every road to the
/// workspace mounts it again. Also: caps off means no probe image, and what deleting a capped agent
/// and filling its disk leave working.
@Suite(.serialized, .enabled(if: isRoot, "needs root for loop devices and mounts"))
struct DiskMountTests {
    private func server(idle: Int = 1) async throws -> TestServer {
        // A warm sandbox is a user of the disk too (its bubblewrap sits in the workspace): a short one.
        try await TestServer(extraArguments: ["--disk-bytes", String(32 << 20), "--disk-idle", String(idle), "--warm-sandbox-idle", "1"]).start()
    }

    private func isMounted(_ server: TestServer, _ agent: String) -> Bool {
        let mountPoint = server.dataRoot.appendingPathComponent(agent).path
        return readProcFile("/proc/\(server.pid)/mountinfo").split(separator: "\n").contains { $0.split(separator: " ").dropFirst(4).first.map(String.init) == mountPoint }
    }

    /// Waits (up to a minute: a loaded machine) until the server has unmounted the agent's image.
    private func waitUntilUnmounted(_ server: TestServer, _ agent: String) async throws {
        for _ in 0..<600 where isMounted(server, agent) { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!isMounted(server, agent), "the idle agent's image was unmounted")
    }

    @Test func anIdleAgentsImageIsUnmountedAndItsNextCallMountsItWithItsFiles() async throws {
        let server = try await server()
        defer { server.removeDataRoot() }
        let agent = newAgent()
        #expect(try await server.write(agent, "notes.txt", "kept\n").status == 200)
        // (No check that it is mounted right now: with a 1 s idle time, a loaded machine may already have
        // unmounted it. The reads below after each unmount show that every road mounts it again.)
        try await waitUntilUnmounted(server, agent)

        #expect(try await server.read(agent, "notes.txt").string("content") == "kept\n", "a file tool mounts it")
        #expect(try await server.bash(agent, "cat notes.txt").string("stdout") == "kept\n")
        try await waitUntilUnmounted(server, agent)
        let info = try await server.agentInfo(agent)
        #expect(info.status == 200)
        #expect((info.int("disk_usage_bytes") ?? 0) > 0, "GET measures the mounted disk: \(info.text)")
        try await waitUntilUnmounted(server, agent)
        #expect(try await server.bash(agent, "cat notes.txt").string("stdout") == "kept\n", "a command mounts it")
    }

    @Test func exportSnapshotForkAndResizeOfAnUnmountedAgentMountIt() async throws {
        let server = try await server()
        defer { server.removeDataRoot() }
        let agent = newAgent()
        _ = try await server.bash(agent, "echo hi > a.txt")
        try await waitUntilUnmounted(server, agent)
        let export = try await server.request("GET", "/v1/agents/\(agent)/archive?format=tar")
        #expect(export.status == 200 && export.body.count > 1024, "\(export.status)")
        try await waitUntilUnmounted(server, agent)
        let snapshot = try await server.snapshotID(agent)
        try await waitUntilUnmounted(server, agent)
        let fork = try #require(try await server.createAgent(["fork_of": agent]).string("agent_id"))
        #expect(try await server.bash(fork, "cat a.txt").string("stdout") == "hi\n")
        try await waitUntilUnmounted(server, agent)
        let patched = try await server.request("PATCH", "/v1/agents/\(agent)", body: try JSONSerialization.data(withJSONObject: ["limits": ["disk_bytes": 24 << 20]]))
        #expect(patched.status == 200, "\(patched.text)")
        try await waitUntilUnmounted(server, agent)
        _ = try await server.bash(agent, "rm a.txt")
        try await waitUntilUnmounted(server, agent)
        #expect(try await server.restore(agent, snapshot).status == 200)
        #expect(try await server.read(agent, "a.txt").string("content") == "hi\n")
    }

    @Test func aWatchKeepsTheDiskMountedAndSeesWritesPastTheIdleTime() async throws {
        let server = try await server()
        defer { server.removeDataRoot() }
        let agent = newAgent()
        _ = try await server.bash(agent, "true")
        let client = try await offPool { () throws -> SSEClient in
            let client = try SSEClient(server, "/v1/agents/\(agent)/watch")
            guard client.status == 200, try client.next()?.event == "ready" else { throw TestFailure("watch did not open") }
            return client
        }
        defer { client.close() }
        try await Task.sleep(for: .seconds(4))  // four idle times with no call: only the watch uses the disk
        #expect(isMounted(server, agent), "a watch is a user of the disk")
        _ = try await server.bash(agent, "echo x > late.txt")
        let seen = try await offPool { try client.read { $0.data.contains("late.txt") } }
        #expect(seen.last?.event == "created", "\(seen.map(\.event))")
        client.close()
        try await waitUntilUnmounted(server, agent)
    }

    @Test func aFullAgentCanStillBeSnapshottedAndDeletingItTakesImageSnapshotsAndWatches() async throws {
        let server = try await server(idle: 60)
        defer { server.removeDataRoot() }
        let agent = newAgent()
        let filled = try await server.bash(agent, "echo keep > keep.txt; dd if=/dev/zero of=fill bs=1M count=64 2>&1; echo rc=$?")
        #expect(filled.string("stdout")?.contains("No space left on device") == true)
        let snapshot = try await server.snapshot(agent)
        #expect(snapshot.status == 201, "a full disk can still be snapshotted: \(snapshot.text)")

        let client = try await offPool { () throws -> SSEClient in
            let client = try SSEClient(server, "/v1/agents/\(agent)/watch")
            guard client.status == 200, try client.next()?.event == "ready" else { throw TestFailure("watch did not open") }
            return client
        }
        defer { client.close() }
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)").status == 200)
        let ended = try await offPool { try client.read { _ in false } }
        #expect(ended.count < 100, "the watch stream ended with the agent")
        let state = server.dataRoot.appendingPathComponent(".agentsandbox")
        #expect(access(state.appendingPathComponent("disks/\(agent).img").path, F_OK) != 0, "image removed")
        #expect(access(state.appendingPathComponent("snapshots/\(agent)").path, F_OK) != 0, "snapshots removed")
        #expect(access(server.dataRoot.appendingPathComponent(agent).path, F_OK) != 0, "mount point removed")
        #expect(!isMounted(server, agent))
    }

    @Test func aServerWithCapsOffMakesNoProbeImageUntilAnAgentAsksForACap() async throws {
        let server = try await TestServer().start()  // --disk-bytes 0
        defer { server.removeDataRoot() }
        let disks = server.dataRoot.appendingPathComponent(".agentsandbox/disks").path
        #expect(try await server.bash(newAgent(), "true").int("exit_code") == 0)
        #expect(access(disks, F_OK) != 0, "no probe image was made at start-up or for an uncapped agent")

        let agent = newAgent()
        let created = try await server.post("/v1/agents", json: ["agent_id": agent, "limits": ["disk_bytes": 32 << 20]])
        #expect(created.status == 201, "\(created.text)")
        #expect(created.int("disk_limit_bytes") == 32 << 20)
        #expect(access(disks + "/\(agent).img", F_OK) == 0, "the first capped agent probed, then got its image")
        let full = try await server.bash(agent, "dd if=/dev/zero of=big bs=1M count=64 2>&1; echo rc=$?")
        #expect(full.string("stdout")?.contains("No space left on device") == true)
    }
}
