import Foundation
import Testing

/// Resource exhaustion and escape-by-daemon attacks; a bystander agent must keep answering.
@Suite(.enabled(if: isRoot, "needs root"), .serialized)
struct AdversarialResourceTests {
    /// Runs `attack` for `agent` while a bystander agent echoes; returns the bystander's latencies (ms).
    private func bystanderLatencies(_ server: TestServer, during attack: @escaping @Sendable () async throws -> TestServer.Reply) async throws -> (TestServer.Reply, [Double]) {
        let bystander = newAgent()
        _ = try await server.bash(bystander, "true")
        async let attackReply = attack()
        var latencies: [Double] = []
        let deadline = Date().addingTimeInterval(4)
        while Date() < deadline {
            let started = Date()
            let echo = try await server.bash(bystander, "echo ok")
            #expect(echo.string("stdout") == "ok\n", "the bystander keeps answering: \(echo.text)")
            latencies.append(Date().timeIntervalSince(started) * 1000)
        }
        return (try await attackReply, latencies)
    }

    private func summary(_ name: String, _ values: [Double]) -> String {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return "\(name): no samples" }
        return String(format: "%@: n=%d p50=%.1f ms p99=%.1f ms", name, sorted.count, sorted[sorted.count / 2], sorted[min(sorted.count - 1, sorted.count * 99 / 100)])
    }

    @Test func forkBombMemoryHogAndFloodAreContainedAndABystanderKeepsAnswering() async throws {
        let server = try await TestServer.attackTarget.get()
        let (idle, _) = try await (server.bash(newAgent(), "true"), ())
        _ = idle
        let (_, idleLatencies) = try await bystanderLatencies(server) { try await server.bash(newAgent(), "sleep 3") }

        let bomber = newAgent()
        let (bomb, bombLatencies) = try await bystanderLatencies(server) {
            try await server.bash(bomber, "bomb() { bomb | bomb & }; bomb; sleep 3", timeout: 3)
        }
        #expect(bomb.status == 200)
        let bomberUID = try #require(try await server.agentInfo(bomber).int("uid"))
        #expect(await eventually(within: 5) { leftovers(ownedBy: bomberUID).isEmpty }, "the fork bomb is gone")

        let hog = newAgent()
        let (hogReply, hogLatencies) = try await bystanderLatencies(server) {
            try await server.bash(hog, "python3 -c 'x = bytearray(3 << 30); print(len(x))'; echo exit=$?", timeout: 30)
        }
        #expect(hogReply.string("stdout")?.contains("exit=0") == false, "a 3 GiB allocation is refused or killed: \(hogReply.text)")

        let flooder = newAgent()
        let (flood, floodLatencies) = try await bystanderLatencies(server) {
            try await server.bash(flooder, "head -c 10000000000 /dev/zero", timeout: 3)
        }
        #expect((flood.string("stdout")?.utf8.count ?? .max) < (1 << 20) + 200, "output stays capped")
        #expect(server.residentBytes() < 400 << 20, "server RSS \(server.residentBytes() >> 20) MiB")

        let report = [summary("idle", idleLatencies), summary("fork bomb", bombLatencies), summary("memory hog", hogLatencies), summary("output flood", floodLatencies)]
        print("bystander bash echo latency — " + report.joined(separator: "; "))
        try? report.joined(separator: "\n").write(toFile: "/tmp/agent-sandbox-attack-latency.txt", atomically: true, encoding: .utf8)
    }

    @Test func infiniteLoopPastTimeoutIsKilled() async throws {
        let server = try await TestServer.attackTarget.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "true")
        let uid = try #require(try await server.agentInfo(agent).int("uid"))
        let reply = try await server.bash(agent, "while :; do :; done", timeout: 1)
        #expect(reply.string("error_code") == "TIMEOUT")
        #expect(await eventually(within: 2) { leftovers(ownedBy: uid).isEmpty })
    }

    @Test func doubleForkedDaemonsDoNotSurviveTheCall() async throws {
        let server = try await TestServer.attackTarget.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "true")
        let uid = try #require(try await server.agentInfo(agent).int("uid"))
        let reply = try await server.bash(agent, "(setsid sh -c 'sleep 100' >/dev/null 2>&1 &); (nohup sleep 100 >/dev/null 2>&1 & disown); python3 -c 'import os\nif os.fork() == 0:\n  os.setsid()\n  if os.fork() == 0: os.execvp(\"sleep\", [\"sleep\", \"100\"])' ; echo launched")
        #expect(reply.string("stdout") == "launched\n")
        #expect(await eventually(within: 2) { leftovers(ownedBy: uid).isEmpty }, "daemons are killed with the call")
    }

    @Test func perAgentPidsLimitStopsForkFlood() async throws {
        let server = try await TestServer.attackTarget.get()
        let agent = newAgent()
        #expect(try await server.post("/v1/agents", json: ["agent_id": agent, "limits": ["pids_max": 20]]).status == 201)
        let reply = try await server.bash(agent, "for i in $(seq 60); do sleep 5 & done 2>&1 | grep -c 'retry\\|Resource temporarily' ; jobs -p | wc -l", timeout: 10)
        let lines = reply.string("stdout")?.split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? []
        #expect((lines.first ?? 0) > 0, "fork fails past the limit: \(reply.text)")
        let info = try await server.agentInfo(agent)
        #expect((info.json["limits"] as? [String: Any])?["pids_max"] as? Int == 20)
    }

    @Test func concurrencyLimitAnswers429() async throws {
        let server = try await TestServer.attackTarget.get()
        let agent = newAgent()
        #expect(try await server.post("/v1/agents", json: ["agent_id": agent, "limits": ["max_concurrent_calls": 1]]).status == 201)
        async let slow = server.bash(agent, "sleep 1.5; echo done")
        try await Task.sleep(for: .milliseconds(500))
        let refused = try await server.bash(agent, "echo second")
        #expect(refused.status == 429)
        #expect(refused.string("error_code") == "TOO_MANY_REQUESTS")
        #expect(try await slow.string("stdout") == "done\n")
    }

    @Test func suspendFreezesRunningProcessesAndResumeThawsThem() async throws {
        let server = try await TestServer.attackTarget.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "true")
        let counter = server.workspace(of: agent).appendingPathComponent("count")
        async let loop = server.bash(agent, "for i in $(seq 60); do echo $i >> count; sleep 0.05; done; echo finished", timeout: 30)
        #expect(await eventually(within: 5) { ((try? Data(contentsOf: counter))?.count ?? 0) > 0 })
        #expect(try await server.request("POST", "/v1/agents/\(agent)/suspend").status == 200)
        try await Task.sleep(for: .milliseconds(200))
        let frozenSize = (try? Data(contentsOf: counter))?.count ?? 0
        try await Task.sleep(for: .milliseconds(500))
        #expect((try? Data(contentsOf: counter))?.count == frozenSize, "no progress while suspended")
        #expect(try await server.request("POST", "/v1/agents/\(agent)/resume").status == 200)
        #expect(try await loop.string("stdout") == "finished\n")
    }

    @Test func deleteLeavesNoProcessCgroupOrFileBehind() async throws {
        let server = try await TestServer.attackTarget.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "echo data > file; mkdir -p a/b/c")
        let uid = try #require(try await server.agentInfo(agent).int("uid"))
        async let running = server.bash(agent, "sleep 30")
        #expect(await eventually(within: 5) { !everyProcess(ownedBy: uid).isEmpty })
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)").status == 200)
        _ = try? await running
        #expect(await eventually(within: 2) { everyProcess(ownedBy: uid).isEmpty })
        #expect(!FileManager.default.fileExists(atPath: server.workspace(of: agent).path))
        let groups = ["unified", "pids", "memory", "cpu"].map { "/sys/fs/cgroup/\($0)" }
        for root in groups {
            let leftovers = (try? FileManager.default.subpathsOfDirectory(atPath: root))?.filter { $0.hasSuffix(agent) } ?? []
            #expect(leftovers.isEmpty, "cgroup left under \(root): \(leftovers)")
        }
    }
}
