import Foundation
import Testing

/// `POST /v1/agents {"fork_of"}` and `{"from_snapshot"}` over real HTTP: a new agent with its own uid,
/// the source's settings, and an independent copy of the workspace.
@Suite(.enabled(if: isRoot, "needs root to switch uids"), .serialized)
struct ForkTests {
    @Test func forkOfCopiesTheWorkspaceAndSettingsUnderANewUidAndBothDiverge() async throws {
        let server = try await TestServer.shared.get()
        let source = newAgent()
        #expect(try await server.createAgent(["agent_id": source, "limits": ["pids_max": 100]]).status == 201)
        _ = try await server.bash(source, SnapshotTests.tree)
        let original = try await server.treeListing(source)
        let sourceUID = try await server.uid(of: source)

        let forked = try await server.createAgent(["fork_of": source])
        #expect(forked.status == 201, "\(forked.text)")
        let fork = try #require(forked.string("agent_id"))
        #expect(fork != source)
        let forkUID = try #require(forked.int("uid"))
        #expect(forkUID != sourceUID, "a fork gets its own uid")
        #expect((forked.json["limits"] as? [String: Any])?["pids_max"] as? Int == 100, "settings are copied")
        let copied = try await server.treeListing(fork)
        #expect(copied == original.replacingOccurrences(of: " \(sourceUID) ", with: " \(forkUID) "),
                "the same tree, owned by the fork's uid:\n\(original)\n---\n\(copied)")

        _ = try await server.bash(fork, "echo fork > src/a.txt && rm key")
        _ = try await server.bash(source, "echo source > only-source.txt")
        #expect(try await server.treeListing(source) != original)
        #expect(try await server.bash(source, "cat src/a.txt; test -e key && echo key").string("stdout") == "hello\nkey\n", "the source does not see the fork's changes")
        #expect(try await server.bash(fork, "cat src/a.txt; test -e only-source.txt || echo absent").string("stdout") == "fork\nabsent\n", "the fork does not see the source's")
    }

    @Test func fromSnapshotMakesAnAgentOfThatMomentAndRefusesBadSources() async throws {
        let server = try await TestServer.shared.get()
        let source = newAgent()
        _ = try await server.bash(source, "mkdir d && echo one > d/f")
        let snapshot = try await server.snapshotID(source)
        _ = try await server.bash(source, "echo two > d/f")

        let named = newAgent()
        let made = try await server.createAgent(["from_snapshot": snapshot, "agent_id": named])
        #expect(made.status == 201, "\(made.text)")
        #expect(made.string("agent_id") == named)
        #expect(try await server.bash(named, "cat d/f").string("stdout") == "one\n")
        #expect(try await server.bash(source, "cat d/f").string("stdout") == "two\n")

        let again = try await server.createAgent(["from_snapshot": snapshot, "agent_id": named])
        #expect(again.status == 409 && again.string("error_code") == "AGENT_EXISTS", "a fork never overwrites an agent")
        let missing = try await server.createAgent(["fork_of": newAgent()])
        #expect(missing.status == 404 && missing.string("error_code") == "AGENT_NOT_FOUND")
        let noSnapshot = try await server.createAgent(["from_snapshot": "no-such-snapshot"])
        #expect(noSnapshot.status == 404 && noSnapshot.string("error_code") == "SNAPSHOT_NOT_FOUND")
        let both = try await server.createAgent(["fork_of": source, "from_snapshot": snapshot])
        #expect(both.status == 400)
    }
}
