import Foundation
import Testing

/// Attempts to reach the host or the server from inside the sandbox.
@Suite(.enabled(if: isRoot, "needs root"))
struct AdversarialEscapeTests {
    @Test func killMinusOneOnlyReachesTheAgentsOwnProcesses() async throws {
        let server = try await TestServer.shared.get()
        let (a, b) = (newAgent(), newAgent())
        async let victim = server.bash(b, "sleep 1.5; echo survived")
        try await Task.sleep(for: .milliseconds(300))
        _ = try await server.bash(a, "kill -9 -1; kill -9 \(server.pid); echo after")
        #expect(try await victim.string("stdout") == "survived\n")
        #expect(kill(server.pid, 0) == 0, "the server is alive")
        #expect(try await server.request("GET", "/healthz", headers: [:]).status == 200)
    }

    @Test func systemDirectoriesAreReadOnly() async throws {
        let server = try await TestServer.shared.get()
        let before = try Data(contentsOf: URL(fileURLWithPath: "/etc/hostname"))
        let reply = try await server.bash(newAgent(), "echo pwned > /etc/hostname; touch /usr/bin/pwned; touch /opt/pwned; echo x >> /etc/passwd; cat /etc/shadow")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "/etc/hostname")) == before)
        #expect(!FileManager.default.fileExists(atPath: "/usr/bin/pwned"))
        #expect(!FileManager.default.fileExists(atPath: "/opt/pwned"))
        #expect(reply.string("stdout")?.contains("root:") == false, "no /etc/shadow content")
    }

    @Test(arguments: ["full", "cgroup"])
    func cgroupAndProcSysWritesAreRefused(isolation: String) async throws {
        let server = try await TestServer.shared(isolation: isolation)
        let agent = newAgent()
        let reply = try await server.bash(agent, """
            echo $$ > /sys/fs/cgroup/unified/cgroup.procs && echo moved
            echo $$ > /sys/fs/cgroup/pids/cgroup.procs && echo moved-pids
            echo max > /sys/fs/cgroup/pids/pids.max && echo raised
            echo 0 > /proc/sys/kernel/sched_autogroup_enabled && echo sysctl
            echo checked
            """)
        let stdout = reply.string("stdout") ?? ""
        #expect(stdout == "checked\n", "\(reply.text)")
        let uid = try #require(try await server.agentInfo(agent).int("uid"))
        #expect(await eventually(within: 2) { leftovers(ownedBy: uid).isEmpty })
    }

    @Test func agentCanLockItsOwnWorkspaceButNotKeepIt() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "mkdir -p locked/inner && touch locked/inner/f && chmod 000 locked/inner locked && chmod 500 .")
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)").status == 200)
        #expect(!FileManager.default.fileExists(atPath: server.workspace(of: agent).path))
    }

    @Test func setuidBitOnAnAgentFileGivesNothing() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.bash(newAgent(), "cp /usr/bin/id myid && chmod u+s myid && ./myid -u && stat -c %a myid")
        let lines = reply.string("stdout")?.split(separator: "\n") ?? []
        #expect(lines.first.map(String.init) != "0")
    }

    @Test func oversizedCommandIsA400NamingTheField() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.bash(newAgent(), String(repeating: "x", count: (1 << 20) + 10))
        #expect(reply.status == 400)
        #expect(reply.string("error")?.contains("command") == true)
    }

    @Test func largeStdinIsDeliveredCompletely() async throws {
        let server = try await TestServer.shared.get()
        let input = String(repeating: "0123456789", count: 500_000)
        let reply = try await server.call("bash", agent: newAgent(), ["command": "wc -c", "stdin": input])
        #expect(reply.string("stdout")?.trimmingCharacters(in: .whitespacesAndNewlines) == "5000000")
    }

    @Test func stderrFloodIsCappedIndependently() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.bash(newAgent(), "head -c 5000000 /dev/zero | tr '\\0' e >&2; echo out")
        #expect(reply.string("stdout") == "out\n")
        #expect((reply.string("stderr")?.utf8.count ?? 0) < (1 << 20) + 200)
        #expect(reply.bool("truncated") == true)
    }

    @Test func burstOfConcurrentCallsNeverFailsWithA500() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        #expect(try await server.post("/v1/agents", json: ["agent_id": agent, "limits": ["max_concurrent_calls": 2]]).status == 201)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<12 { group.addTask { try await server.bash(agent, "sleep 0.3").status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(Set(statuses).isSubset(of: [200, 429]), "\(statuses)")
        #expect(statuses.contains(429), "more than 2 concurrent calls hit the limit")
        #expect(try await server.bash(agent, "echo fine").string("stdout") == "fine\n")
    }
}
