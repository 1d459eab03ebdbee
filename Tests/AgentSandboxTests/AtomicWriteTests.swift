#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing

/// Atomic replacement under a crash: SIGKILL the server in the middle of a stream of large
/// file_writes and multi_edits; after a restart every file is its old or a new full content.
@Suite(.serialized, .enabled(if: isRoot, "needs root to switch uids"))
struct AtomicWriteTests {
    /// 1 MB of one repeated letter: a torn write shows up as mixed letters or a wrong size. (Kept under
    /// 1 MiB per body: curl-based clients wait 1 s for a `100 Continue` above that.)
    private static func version(_ letter: Character) -> String { String(repeating: letter, count: 1_000_000) }

    @Test func killedMidStreamLeavesEveryFileWholeOldOrNew() async throws {
        let server = try await TestServer().start()
        defer { server.stop() }
        let agent = newAgent()
        let files = (0..<6).map { "f\($0).txt" }
        for file in files { _ = try await server.write(agent, file, Self.version("A")) }
        let completed = Counter()
        let writers = Task {
            await withTaskGroup(of: Void.self) { group in
                for (index, file) in files.enumerated() {
                    group.addTask {
                        var previous: Character = "A"
                        for letter in "BCDEFGHIJKLMNOPQRSTUVWXYZ" {
                            defer { previous = letter }
                            if index % 2 == 0 {
                                if (try? await server.write(agent, file, Self.version(letter)))?.string("status") == "ok" { completed.value.add(1, ordering: .relaxed) }
                            } else {
                                // Each multi_edit replaces the whole previous version with the next one.
                                let edit = ["path": file, "old_text": Self.version(previous), "new_text": Self.version(letter)]
                                if (try? await server.call("multi_edit", agent: agent, ["edits": [edit]]))?.string("status") == "ok" { completed.value.add(1, ordering: .relaxed) }
                            }
                        }
                    }
                }
            }
        }
        // Kill once a few writes have landed, so the stream is well under way.
        _ = await eventually(within: 20) { completed.value.load(ordering: .relaxed) >= 4 }
        server.stop(signal: SIGKILL)
        let landed = completed.value.load(ordering: .relaxed)
        await writers.value
        #expect(landed >= 4 && landed < 6 * 24, "the kill came mid-stream (\(landed) writes had landed)")
        try await server.start()

        for file in files {
            let bytes = try #require(FileManager.default.contents(atPath: server.file(agent, file)), "\(file) exists")
            #expect(bytes.count == 1_000_000, "\(file) has \(bytes.count) bytes")
            let letters = Set(bytes)
            #expect(letters.count == 1, "\(file) is one whole version, not torn: \(letters.map { Character(UnicodeScalar($0)) })")
        }
        #expect(try await server.read(agent, "f0.txt", ["end_line": 1]).string("status") == "ok", "the server serves after the crash")
    }
}

/// A counter tasks can share.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
