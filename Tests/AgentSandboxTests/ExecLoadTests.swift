import Foundation
import Synchronization
import Testing

/// Many sessions at once: every stream is accounted for to the byte, and the server's memory stays bounded.
@Suite(.enabled(if: isRoot, "needs root to switch uids"), .serialized)
struct ExecLoadTests {
    static let bytesPerSession = 5_000_000

    /// Bytes a base64 SSE data line stands for.
    static func decodedLength(_ base64: String) -> Int {
        let count = base64.utf8.count
        return count / 4 * 3 - base64.suffix(2).filter { $0 == "=" }.count
    }

    @Test func twentySessionsAcrossFourAgentsStreamFiveMegabytesEachInBoundedMemory() async throws {
        let server = try await TestServer().start()
        defer { server.stop() }
        let agents = (0..<4).map { _ in newAgent() }
        for agent in agents { _ = try await server.uid(of: agent) }
        let baseline = server.residentBytes()
        // 100 paced writes of 50,000 bytes: 5 MB per session in about 6 s (debug-build clients keep up with
        // that even while other suites share the two cores).
        let command = "x=$(head -c 50000 /dev/zero | tr '\\0' x); for i in $(seq 100); do printf '%s' \"$x\"; sleep 0.06; done"
        var sessions: [(String, String)] = []
        for index in 0..<20 {
            let agent = agents[index % 4]
            sessions.append((agent, try await server.startSession(agent, command)))
        }
        let peak = Atomic<Int>(0)
        let sampler = Task {
            while !Task.isCancelled {
                let rss = server.residentBytes()
                if rss > peak.load(ordering: .relaxed) { peak.store(rss, ordering: .relaxed) }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        let results = try await withThrowingTaskGroup(of: (delivered: Int, dropped: Int, exit: String).self) { group in
            for (agent, session) in sessions {
                group.addTask {
                    try await offPool {
                        let client = try SSEClient(server, server.sessionPath(agent, session, "/stream") + "?encoding=base64", timeout: 60)
                        var delivered = 0, dropped = 0
                        var exit = ""
                        while let event = try client.next() {
                            switch event.event {
                            case "stdout": delivered += Self.decodedLength(event.data)
                            case "dropped": dropped += ((try? JSONSerialization.jsonObject(with: Data(event.data.utf8))) as? [String: Any])?["dropped_bytes"] as? Int ?? 0
                            case "exit": exit = event.data
                            default: break
                            }
                        }
                        return (delivered, dropped, exit)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        sampler.cancel()
        #expect(results.count == 20)
        for result in results {
            #expect(result.delivered + result.dropped == Self.bytesPerSession, "every byte delivered or reported dropped")
            #expect(result.exit.contains("\"exit_code\":0"))
        }
        let dropped = results.map { $0.dropped }.reduce(0, +)
        print("exec load: 20 × 5 MB, dropped \(dropped) bytes in total; server RSS \(baseline >> 20) MiB → peak \(peak.load(ordering: .relaxed) >> 20) MiB")
        // Drops are the designed answer to slow watchers (debug-build clients sharing two cores with the
        // other suites); what must hold is that every stream is accounted for and memory stays bounded.
        #expect(results.allSatisfy { $0.delivered > 0 }, "every watcher receives output")
        #expect(peak.load(ordering: .relaxed) < 300 << 20, "server memory stays bounded")
        for (agent, session) in sessions {
            #expect(try await server.session(agent, session).int("stdout_bytes") == Self.bytesPerSession)
        }
    }
}
