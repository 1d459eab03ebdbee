import Foundation
import Testing

/// `GET /v1/agents/{id}/watch` over real HTTP: the events of a scripted sequence in order, new
/// subdirectories watched as they appear, a burst survived, and a stream that ends (descriptors
/// released) when the client leaves or the agent is deleted.
@Suite(.enabled(if: isRoot, "needs root to switch uids"), .serialized)
struct WatchTests {
    /// A server of this suite's own: the descriptor count is the server's, not other suites'.
    static let server = SharedServer(arguments: ["--max-watched-directories", "64"])

    /// One event as `(type, path)`; a move as `("moved", "from -> to")`.
    private static func summary(_ event: SSEEvent) -> (String, String) {
        let json = (try? JSONSerialization.jsonObject(with: Data(event.data.utf8))) as? [String: Any] ?? [:]
        if event.event == "moved" { return ("moved", "\(json["from"] as? String ?? "?") -> \(json["to"] as? String ?? "?")") }
        return (event.event, json["path"] as? String ?? "")
    }

    /// Opens a watch and waits for its `ready` event.
    private static func open(_ server: TestServer, _ agent: String, query: String = "") async throws -> SSEClient {
        try await offPool {
            let client = try SSEClient(server, "/v1/agents/\(agent)/watch\(query)")
            guard client.status == 200 else { throw TestFailure("watch answered \(client.status)") }
            let first = try client.next()
            guard first?.event == "ready" else { throw TestFailure("first event: \(String(describing: first))") }
            return client
        }
    }

    /// Reads events until one matches `last` (included).
    private static func events(_ client: SSEClient, until last: @escaping @Sendable ((String, String)) -> Bool) async throws -> [(String, String)] {
        try await offPool { try client.read { last(summary($0)) }.map(summary) }
    }

    @Test func seesEveryCreateModifyMoveAndDeleteOfAScriptInOrder() async throws {
        let server = try await Self.server.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "true")
        let client = try await Self.open(server, agent)
        defer { client.close() }
        let run = try await server.bash(agent, "echo a > f.txt; echo b >> f.txt; mkdir d; echo x > d/new.txt; mv f.txt g.txt; chmod 600 g.txt; rm g.txt; rm d/new.txt")
        #expect(run.int("exit_code") == 0)
        let seen = try await Self.events(client) { $0 == ("deleted", "d/new.txt") }
        let expected: [(String, String)] = [
            ("created", "f.txt"), ("modified", "f.txt"), ("created", "d"), ("created", "d/new.txt"),
            ("moved", "f.txt -> g.txt"), ("modified", "g.txt"), ("deleted", "g.txt"), ("deleted", "d/new.txt"),
        ]
        #expect(seen.map { "\($0.0) \($0.1)" } == expected.map { "\($0.0) \($0.1)" })
    }

    @Test func newSubdirectoriesAreWatchedAndABurstOfTenThousandFilesIsSurvived() async throws {
        let server = try await Self.server.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "mkdir -p old")
        let client = try await Self.open(server, agent)
        defer { client.close() }
        _ = try await server.bash(agent, "mkdir -p a/b/c && echo hi > a/b/c/deep.txt")
        let first = try await Self.events(client) { $0 == ("created", "a/b/c/deep.txt") }
        #expect(first.contains { $0 == ("created", "a/b/c") })
        _ = try await server.bash(agent, "echo more >> a/b/c/deep.txt")
        let second = try await Self.events(client) { $0.1 == "a/b/c/deep.txt" }
        #expect(second.last.map { $0 == ("modified", "a/b/c/deep.txt") } == true, "the new directory is watched: \(second)")

        _ = try await server.bash(agent, "cd old && for i in $(seq 10000); do : > f$i; done")
        _ = try await server.bash(agent, "echo after > after.txt")
        let burst = try await Self.events(client) { $0 == ("created", "after.txt") }
        let files = Set(burst.filter { $0.0 == "created" && $0.1.hasPrefix("old/") }.map(\.1))
        #expect(files.count == 10000 || burst.contains { $0.0 == "overflow" }, "every file, or an overflow event saying some were lost")
    }

    @Test func aStreamEndsAndReleasesItsDescriptorsWhenTheClientLeavesOrTheAgentIsDeleted() async throws {
        let server = try await Self.server.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "mkdir -p x/y")
        // One watch first, so lazily started pools and caches are part of the baseline.
        let warmup = try await Self.open(server, agent)
        warmup.close()
        try await Task.sleep(for: .milliseconds(500))
        let baseline = server.openDescriptors()

        let left = try await Self.open(server, agent)
        #expect(server.openDescriptors() > baseline, "an open watch holds descriptors (its inotify instance)")
        left.close()
        #expect(await eventually(within: 10) { server.openDescriptors() <= baseline }, "back to \(baseline): \(server.openDescriptors())")

        let watching = try await Self.open(server, agent)
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)").status == 200)
        let rest = try await offPool { try watching.read { _ in false } }
        #expect(!rest.contains { $0.event == "ready" }, "the stream ended (read returned at its end)")
        watching.close()
        #expect(await eventually(within: 10) { server.openDescriptors() <= baseline }, "back to \(baseline): \(server.openDescriptors())")
    }

    @Test func refusesDirectoriesPastTheLimitAndPathsOutsideTheWorkspace() async throws {
        let server = try await Self.server.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "mkdir -p many/d{1..80} && echo f > file")
        let tooMany = try await server.request("GET", "/v1/agents/\(agent)/watch?timeout=1")
        #expect(tooMany.status == 409 && tooMany.string("error_code") == "WATCH_LIMIT_EXCEEDED", "\(tooMany.text)")
        let flat = try await server.request("GET", "/v1/agents/\(agent)/watch?recursive=false&timeout=1")
        #expect(flat.status == 200 && flat.text.contains("event: ready"), "without recursion one directory is watched; the timeout ends the stream")
        #expect(try await server.request("GET", "/v1/agents/\(agent)/watch?path=../..&timeout=1").status == 400)
        #expect(try await server.request("GET", "/v1/agents/\(agent)/watch?path=file&timeout=1").status == 400)
        #expect(try await server.request("GET", "/v1/agents/\(agent)/watch?path=nothing&timeout=1").status == 404)
    }
}
