import Foundation
import Testing

/// Snapshots over real HTTP: round trip, consistency under a running writer (the cgroup freezer),
/// quota, deletion, and what an agent's deletion takes with it.
@Suite(.enabled(if: isRoot, "needs root to switch uids"), .serialized)
struct SnapshotTests {
    /// Two snapshots and 2 MB of stored snapshots per agent.
    static let server = SharedServer(arguments: ["--max-snapshots-per-agent", "2", "--snapshot-bytes-per-agent", "2000000"])

    static let tree = """
        mkdir -p src/nested empty && printf 'hello\\n' > src/a.txt && printf '#!/bin/sh\\necho hi\\n' > run.sh && chmod 755 run.sh
        head -c 100000 /dev/urandom > src/nested/blob.bin && printf 'secret' > key && chmod 600 key && chmod 750 src/nested
        ln -s src/a.txt link && ln -s nested src/dirlink && touch -h -d @1700000000 link
        touch -d @1600000000 src/a.txt run.sh key src/nested/blob.bin && touch -d @1650000000 src/nested src empty
        """

    @Test func restoreBringsBackTheTreeWithModesSymlinksOwnersAndMtimes() async throws {
        let server = try await Self.server.get()
        let agent = newAgent()
        _ = try await server.bash(agent, Self.tree)
        let before = try await server.treeListing(agent)
        #expect(before.contains("./link symbolic link 777"), "\(before)")
        let taken = try await server.snapshot(agent, name: "baseline")
        #expect(taken.status == 201, "\(taken.text)")
        let id = try #require(taken.string("snapshot_id"))
        #expect((taken.int("size") ?? 0) > 100000, "the random blob does not compress")
        #expect((taken.int("uncompressed_bytes") ?? 0) > (taken.int("size") ?? .max), "the tar before zstd (headers, padding) is larger: \(taken.text)")
        #expect(taken.string("created_at") != nil)
        #expect(taken.string("name") == "baseline")

        let changed = try await server.bash(agent, "rm -rf src/nested && echo changed > src/a.txt && chmod 700 run.sh && rm link && ln -s key link && echo new > new.txt")
        #expect(changed.int("exit_code") == 0)
        #expect(try await server.treeListing(agent) != before)

        let restored = try await server.restore(agent, id)
        #expect(restored.status == 200, "\(restored.text)")
        #expect(restored.bool("restored") == true)
        let after = try await server.treeListing(agent)
        #expect(after == before, "restore gives the snapshot's tree byte for byte:\n\(before)\n---\n\(after)")
        let inspected = try await server.request("GET", "/v1/agents/\(agent)/snapshots/\(id)")
        #expect(inspected.status == 200 && inspected.string("snapshot_id") == id && inspected.string("format") == "tar.zst")
    }

    @Test func aSnapshotTakenWhileAWriterRunsShowsOneInstant() async throws {
        let server = try await Self.server.get()
        let agent = newAgent()
        // Rounds of writes to f0000…f1999 in order, each file one write of the round's number: at any
        // instant the values never rise along the order and differ by at most one (one file may be
        // mid-write, empty). A walk that is not frozen reads later files at later rounds.
        _ = try await server.bash(agent, "for k in $(seq -w 0 1999); do printf 0 > f$k; done")
        let writer = try await server.startSession(agent, "i=0; while :; do i=$((i+1)); for k in $(seq -w 0 1999); do printf $i > f$k; done; done")
        defer { Task { _ = try? await server.killSession(agent, writer, "KILL") } }
        try await Task.sleep(for: .milliseconds(300))
        for round in 0..<3 {
            let id = try await server.snapshotID(agent)
            let copy = try await server.createAgent(["from_snapshot": id])
            #expect(copy.status == 201, "\(copy.text)")
            let fork = try #require(copy.string("agent_id"))
            let values = try await server.bash(fork, "for k in $(seq -w 0 1999); do echo \"$(<f$k)\"; done").string("stdout") ?? ""
            let numbers = values.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { Int($0) }
            #expect(numbers.count == 2000)
            let present = numbers.compactMap { $0 }
            #expect(numbers.count - present.count <= 1, "round \(round): at most one file mid-write")
            #expect(zip(present, present.dropFirst()).allSatisfy { $0 >= $1 }, "round \(round): values never rise along the write order")
            #expect((present.max() ?? 0) - (present.min() ?? 0) <= 1, "round \(round): one instant spans at most two rounds: \(Set(present).sorted())")
            _ = try await server.request("DELETE", "/v1/agents/\(fork)")
            _ = try await server.request("DELETE", "/v1/agents/\(agent)/snapshots/\(id)")
        }
        let progressed = try await server.bash(agent, "cat f0000").string("stdout") ?? ""
        #expect((Int(progressed) ?? 0) > 1, "the writer was thawed and kept writing")
    }

    @Test func quotaRefusesTheThirdSnapshotAndTooManyBytesUntilOneIsDeleted() async throws {
        let server = try await Self.server.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "echo small > a.txt")
        let first = try await server.snapshotID(agent)
        _ = try await server.snapshotID(agent)
        let third = try await server.snapshot(agent)
        #expect(third.status == 409)
        #expect(third.string("error_code") == "SNAPSHOT_QUOTA_EXCEEDED")
        #expect(third.string("error")?.contains("allows 2 per agent") == true, "\(third.text)")
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)/snapshots/\(first)").status == 200)
        #expect(try await server.snapshot(agent).status == 201, "deleting one frees its place")

        let big = newAgent()
        _ = try await server.bash(big, "head -c 3000000 /dev/urandom > noise.bin")
        let tooBig = try await server.snapshot(big)
        #expect(tooBig.status == 409)
        #expect(tooBig.string("error")?.contains("2000000 bytes per agent") == true, "\(tooBig.text)")
        let list = try await server.request("GET", "/v1/agents/\(big)/snapshots")
        #expect(list.int("count") == 0)
        let stored = server.dataRoot.appendingPathComponent(".agentsandbox/snapshots/\(big)").path
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: stored)) ?? []).isEmpty, "the refused snapshot's archive was removed")
    }

    @Test func deletedSnapshotsAndDeletedAgentsLeaveNothingBehind() async throws {
        let server = try await Self.server.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "echo x > x")
        let id = try await server.snapshotID(agent)
        let stored = server.dataRoot.appendingPathComponent(".agentsandbox/snapshots/\(agent)").path
        #expect(FileManager.default.fileExists(atPath: "\(stored)/\(id).tar.zst"))
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)/snapshots/\(id)").status == 200)
        let gone = try await server.request("GET", "/v1/agents/\(agent)/snapshots/\(id)")
        #expect(gone.status == 404 && gone.string("error_code") == "SNAPSHOT_NOT_FOUND")
        #expect(try await server.restore(agent, id).status == 404)
        #expect(!FileManager.default.fileExists(atPath: "\(stored)/\(id).tar.zst"))

        let kept = try await server.snapshotID(agent)
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)").status == 200)
        #expect(!FileManager.default.fileExists(atPath: stored), "the agent's snapshots went with it")
        #expect(try await server.createAgent(["from_snapshot": kept]).status == 404)
    }

    @Test func snapshotsAndForksSurviveARestart() async throws {
        let server = try await Self.server.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "echo kept > kept.txt")
        let id = try await server.snapshotID(agent)
        let fork = try #require(try await server.createAgent(["fork_of": agent]).string("agent_id"))
        try await server.restart()
        let list = try await server.request("GET", "/v1/agents/\(agent)/snapshots")
        #expect(list.int("count") == 1, "\(list.text)")
        _ = try await server.bash(agent, "rm kept.txt")
        #expect(try await server.restore(agent, id).status == 200)
        #expect(try await server.bash(agent, "cat kept.txt").string("stdout") == "kept\n")
        #expect(try await server.bash(fork, "cat kept.txt").string("stdout") == "kept\n")
    }
}
