#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// `limits.disk_bytes`: each agent's workspace is a loop-mounted ext4 image the kernel keeps it inside.
/// Real loop devices and mounts, so root only; small caps (32-64 MiB) keep it quick.
@Suite(.serialized, .enabled(if: isRoot, "needs root for loop devices and mounts"))
struct DiskCapTests {
    static let cap = 32 << 20

    private func capped(_ bytes: Int = cap) async throws -> TestServer {
        try await TestServer(extraArguments: ["--disk-bytes", String(bytes)]).start()
    }

    private func patch(_ server: TestServer, _ agent: String, diskBytes: Int) async throws -> TestServer.Reply {
        try await server.request("PATCH", "/v1/agents/\(agent)", body: try JSONSerialization.data(withJSONObject: ["limits": ["disk_bytes": diskBytes]]))
    }

    @Test func bashWritingPastTheCapGetsENOSPCAndANeighbourKeepsWriting() async throws {
        let server = try await capped()
        defer { server.removeDataRoot() }
        let (agent, neighbour) = (newAgent(), newAgent())
        #expect(try await server.post("/v1/agents", json: ["agent_id": agent]).status == 201)
        #expect(try await server.post("/v1/agents", json: ["agent_id": neighbour]).status == 201)

        let filled = try await server.bash(agent, "dd if=/dev/urandom of=big bs=1M count=64 2>&1; echo rc=$?")
        #expect(filled.string("stdout")?.contains("No space left on device") == true, "\(filled.text)")
        #expect(filled.string("stdout")?.contains("rc=1") == true)
        // What the agent takes of the host's disk is its image's allocated blocks (other engineers' work
        // moves the host's free space meanwhile, so measure the image, not the file system).
        var image = stat()
        #expect(stat(server.dataRoot.appendingPathComponent(".agentsandbox/disks/\(agent).img").path, &image) == 0)
        #expect(Int64(image.st_blocks) * 512 <= Int64(Self.cap), "the host lost at most the cap: \(image.st_blocks * 512)")
        #expect(Int64(image.st_blocks) * 512 > Int64(Self.cap) / 2, "the writes did land in the image")

        let info = try await server.agentInfo(agent)
        #expect(info.int("disk_limit_bytes") == Self.cap)
        #expect((info.int("disk_usage_bytes") ?? 0) > Self.cap / 2)
        #expect((info.int("disk_usage_bytes") ?? .max) <= Self.cap)

        let wrote = try await server.bash(neighbour, "dd if=/dev/zero of=ok bs=1M count=8 2>&1 && echo done")
        #expect(wrote.string("stdout")?.contains("done") == true, "a neighbour has its own disk: \(wrote.text)")
    }

    @Test func fileWritePastTheCapIsDiskQuotaExceededUntilPatchRaisesIt() async throws {
        let server = try await capped()
        defer { server.removeDataRoot() }
        let agent = newAgent()
        #expect(try await server.write(agent, "notes.txt", "old content\n").status == 200)
        _ = try await server.bash(agent, "dd if=/dev/zero of=fill bs=1M count=26 2>/dev/null")

        let big = String(repeating: "x", count: 6 << 20)
        let refused = try await server.write(agent, "notes.txt", big)
        #expect(refused.status == 507, "\(refused.text.prefix(300))")
        #expect(refused.string("error_code") == "DISK_QUOTA_EXCEEDED")
        #expect(refused.string("error")?.contains("limits.disk_bytes") == true)
        #expect(refused.string("error")?.contains("PATCH /v1/agents/\(agent)") == true)
        #expect(try await server.read(agent, "notes.txt").string("content") == "old content\n", "the old file is intact")
        #expect(try await server.bash(agent, "ls -A | grep -c agentsandbox || true").string("stdout") == "0\n", "no temporary file left")

        let before = try await server.bash(agent, "cksum fill").string("stdout")
        #expect(before?.contains(" \(26 << 20) fill") == true, "\(before ?? "")")
        let raised = try await patch(server, agent, diskBytes: 64 << 20)
        #expect(raised.status == 200, "\(raised.text)")
        #expect(raised.int("disk_limit_bytes") == 64 << 20)
        let size = Int(try await server.bash(agent, "df -B1 --output=size . | tail -1").string("stdout")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(size > 48 << 20, "the file system itself grew: \(size)")
        let rewritten = try await server.write(agent, "notes.txt", big)
        #expect(rewritten.status == 200, "\(rewritten.text.prefix(400))")
        #expect(try await server.read(agent, "notes.txt", ["start_line": 1, "end_line": 1]).string("content")?.hasPrefix("xxxx") == true)
        let after = try await server.bash(agent, "cksum fill")
        #expect(after.string("stdout") == before, "resizing kept the files: \(after.text.prefix(300))")
    }

    @Test func loweringTheCapBelowUseIsRefusedAndAboveItShrinksTheDisk() async throws {
        let server = try await capped(64 << 20)
        defer { server.removeDataRoot() }
        let agent = newAgent()
        _ = try await server.bash(agent, "dd if=/dev/zero of=data bs=1M count=20 2>/dev/null; echo keep > small")

        let refused = try await patch(server, agent, diskBytes: 16 << 20)
        #expect(refused.status == 400)
        #expect(refused.string("error")?.contains("limits.disk_bytes") == true)
        #expect(try await server.agentInfo(agent).int("disk_limit_bytes") == 64 << 20, "a refused change changes nothing")

        let lowered = try await patch(server, agent, diskBytes: 40 << 20)
        #expect(lowered.status == 200, "\(lowered.text)")
        #expect(lowered.int("disk_limit_bytes") == 40 << 20)
        #expect(try await server.read(agent, "small").string("content") == "keep\n")
        let more = try await server.bash(agent, "dd if=/dev/zero of=more bs=1M count=30 2>&1; echo rc=$?")
        #expect(more.string("stdout")?.contains("No space left on device") == true, "the lower cap holds: \(more.text)")
    }

    @Test func deletingTheAgentUnmountsAndRemovesItsImage() async throws {
        let server = try await capped()
        defer { server.removeDataRoot() }
        let agent = newAgent()
        #expect(try await server.post("/v1/agents", json: ["agent_id": agent]).status == 201)
        let mountPoint = server.dataRoot.appendingPathComponent(agent).path
        let image = server.dataRoot.appendingPathComponent(".agentsandbox/disks/\(agent).img").path
        #expect(access(image, F_OK) == 0)
        #expect(mounted(by: server.pid).contains(mountPoint))
        #expect(try await server.agentInfo(agent).string("workspace") == mountPoint + "/workspace")

        #expect(try await server.request("DELETE", "/v1/agents/\(agent)").status == 200)
        #expect(!mounted(by: server.pid).contains(mountPoint))
        #expect(access(image, F_OK) != 0)
        #expect(access(mountPoint, F_OK) != 0)
    }

    @Test func aPlainWorkspaceMovesIntoAnImageOnRestartWithEveryFile() async throws {
        let server = try await TestServer().start()
        defer { server.removeDataRoot() }
        let agent = newAgent()
        let seeded = try await server.bash(agent, "mkdir -p src/deep && printf 'a\\n' > src/deep/a.txt && chmod 640 src/deep/a.txt && ln -s deep/a.txt src/link && truncate -s 5M sparse && echo ok")
        #expect(seeded.string("stdout") == "ok\n")
        #expect(try await server.agentInfo(agent).json["disk_limit_bytes"] is NSNull, "no cap while caps are off")

        server.extraArguments = ["--disk-bytes", String(Self.cap)]
        #expect(await server.stopGracefully() == 0)
        try await server.start()
        let info = try await server.agentInfo(agent)
        #expect(info.int("disk_limit_bytes") == Self.cap)
        #expect(info.string("workspace")?.hasSuffix("/\(agent)/workspace") == true)
        #expect(try await server.read(agent, "src/link").string("content") == "a\n")
        let listed = try await server.bash(agent, "stat -c '%a %u' src/deep/a.txt; stat -c %s sparse; readlink src/link; du -k sparse | cut -f1")
        let uid = info.int("uid") ?? 0
        #expect(listed.string("stdout") == "640 \(uid)\n5242880\ndeep/a.txt\n0\n", "modes, owners, symlinks and holes kept: \(listed.text)")
        let full = try await server.bash(agent, "dd if=/dev/zero of=big bs=1M count=64 2>&1; echo rc=$?")
        #expect(full.string("stdout")?.contains("No space left on device") == true, "the migrated agent is capped")

        // A crash leaves the image mounted; the next server keeps it.
        server.stop(signal: SIGKILL)
        try await server.start()
        #expect(try await server.read(agent, "src/deep/a.txt").string("content") == "a\n")
        #expect(await server.stopGracefully() == 0)
        #expect(!mounted().contains(server.dataRoot.appendingPathComponent(agent).path), "a graceful stop unmounts")
    }

    @Test func aFullAgentCanStillExportAndReplaceItsWorkspace() async throws {
        let server = try await capped()
        defer { server.removeDataRoot() }
        let agent = newAgent()
        _ = try await server.bash(agent, "echo hi > keep.txt; dd if=/dev/zero of=fill bs=1M count=64 2>/dev/null")
        let export = try await server.request("GET", "/v1/agents/\(agent)/archive?format=tar")
        #expect(export.status == 200)
        #expect(export.body.count > 1 << 20)

        let small = try await server.request("GET", "/v1/agents/\(agent)/archive?format=tar.gz")
        _ = try await server.bash(agent, "rm fill")
        let replaced = try await server.request("PUT", "/v1/agents/\(agent)/archive?mode=replace", body: small.body, headers: ["x-api-key": server.apiKey, "Content-Type": "application/gzip"])
        #expect(replaced.status == 200, "replace swaps inside the image: \(replaced.text)")
        #expect(try await server.read(agent, "keep.txt").string("content") == "hi\n")
        let info = try await server.agentInfo(agent)
        #expect((info.int("disk_usage_bytes") ?? .max) < Self.cap, "the restored tree fits")
    }

    /// Mount points as `pid` sees them (the server, or the host: pid 1); the test process's own table can differ.
    private func mounted(by pid: pid_t = 1) -> Set<String> {
        let table = readProcFile("/proc/\(pid)/mountinfo")
        return Set(table.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 ? String(fields[4]) : nil
        })
    }
}
