import Foundation
import Testing

/// The bash tool against a real server: identity, isolation between agents, kill-on-timeout,
/// output caps, clean environment.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct BashToolTests {
    @Test func commandRunsAsTheAgentsAllocatedUid() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let reply = try await server.bash(agent, "id -u; id -g; id -G")
        #expect(reply.status == 200)
        let info = try await server.agentInfo(agent)
        let uid = try #require(info.int("uid"))
        #expect(uid >= server.uidBase && uid < server.uidBase + TestServer.uidCount)
        #expect(reply.string("stdout") == "\(uid)\n\(uid)\n\(uid)\n", "uid, gid and no supplementary groups")
    }

    @Test func twoAgentsGetDifferentUids() async throws {
        let server = try await TestServer.shared.get()
        let (a, b) = (newAgent(), newAgent())
        let uidA = try await server.bash(a, "id -u").string("stdout")
        let uidB = try await server.bash(b, "id -u").string("stdout")
        #expect(uidA != nil && uidB != nil && uidA != uidB)
    }

    /// With namespaces the other workspace is not even mounted; with uid isolation alone, 0700 stops it.
    @Test(arguments: ["full", "cgroup"])
    func agentCannotReadAnotherAgentsFiles(isolation: String) async throws {
        let server = try await TestServer.shared(isolation: isolation)
        let (a, b) = (newAgent(), newAgent())
        _ = try await server.bash(b, "echo secret-of-b > private.txt")
        let path = server.workspace(of: b).appendingPathComponent("private.txt").path
        #expect(FileManager.default.fileExists(atPath: path))
        let reply = try await server.bash(a, "cat \(path); ls \(server.workspace(of: b).path)")
        #expect(reply.int("exit_code") != 0)
        let expected = isolation == "full" ? "No such file or directory" : "Permission denied"
        #expect(reply.string("stderr")?.contains(expected) == true, "\(reply.text)")
        #expect(reply.string("stdout")?.contains("secret-of-b") == false)
    }

    /// A kills B's host pids: with a pid namespace they do not exist for A; with uids alone, EPERM.
    @Test(arguments: ["full", "cgroup"])
    func agentCannotSignalAnotherAgentsProcess(isolation: String) async throws {
        let server = try await TestServer.shared(isolation: isolation)
        let (a, b) = (newAgent(), newAgent())
        _ = try await server.bash(b, "true")
        _ = try await server.bash(a, "true")
        let uidB = try #require(try await server.agentInfo(b).int("uid"))
        // B's process waits for a file made after the attack (not for a clock a loaded machine outruns).
        async let victim = server.bash(b, "for i in $(seq 120); do [ -e attacked ] && break; sleep 1; done; echo survived")
        #expect(await eventually(within: 30) { processes(ownedBy: uidB).count >= 2 })
        let targets = everyProcess(ownedBy: uidB).map(String.init).joined(separator: " ")
        let attack = try await server.bash(a, "kill -9 \(targets)")
        #expect(attack.int("exit_code") != 0)
        let expected = isolation == "full" ? "No such process" : "Operation not permitted"
        #expect(attack.string("stderr")?.contains(expected) == true, "\(attack.text)")
        _ = try await server.bash(b, "touch attacked")
        let survived = try await victim
        #expect(survived.string("stdout") == "survived\n")
    }

    @Test func filesPersistBetweenCallsAndAcrossRestart() async throws {
        let server = try await TestServer().start()
        defer { server.stop() }
        let agent = newAgent()
        _ = try await server.bash(agent, "mkdir -p notes && echo kept > notes/a.txt")
        #expect(try await server.bash(agent, "cat notes/a.txt").string("stdout") == "kept\n")
        let uidBefore = try await server.agentInfo(agent).int("uid")
        try await server.restart()
        #expect(try await server.bash(agent, "cat notes/a.txt").string("stdout") == "kept\n")
        let after = try await server.agentInfo(agent)
        #expect(after.int("uid") == uidBefore)
        #expect(after.string("workspace") == server.workspace(of: agent).path)
    }

    @Test func timeoutKillsTheWholeTreeIncludingSetsidDaemons() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "true")
        let uid = try #require(try await server.agentInfo(agent).int("uid"))
        let started = Date()
        let reply = try await server.bash(agent, "echo before; sleep 600 & setsid sleep 600 & nohup sleep 600 >/dev/null 2>&1 & sleep 600", timeout: 1)
        #expect(Date().timeIntervalSince(started) < 60, "the 1 s timeout ended the call, not the 600 s sleeps")
        #expect(reply.status == 200)
        #expect(reply.string("status") == "error")
        #expect(reply.string("error_code") == "TIMEOUT")
        #expect(reply.int("exit_code") == 124)
        #expect(reply.string("stdout") == "before\n", "partial output is kept")
        #expect(await eventually(within: 2) { processes(ownedBy: uid).isEmpty }, "no process of the agent's uid is left")
    }

    @Test func backgroundJobHoldingStdoutDoesNotHangTheCall() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let started = Date()
        let reply = try await server.bash(agent, "sleep 600 & echo started")
        // Far below the job's 600 s: the call did not wait for it (a first call's cold start on a loaded
        // 2-core CI machine can take several seconds, so the bound is not tighter).
        #expect(Date().timeIntervalSince(started) < 60)
        #expect(reply.string("stdout") == "started\n")
        #expect(reply.string("status") == "ok")
        let uid = try #require(try await server.agentInfo(agent).int("uid"))
        #expect(await eventually(within: 2) { processes(ownedBy: uid).isEmpty }, "the call's background job is killed when the shell exits")
    }

    @Test func floodIsCappedWithHeadTailAndMarkerAndMemoryStaysBounded() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let reply = try await server.bash(agent, "echo FIRST; yes | head -c 50000000; echo; echo LAST")
        let stdout = try #require(reply.string("stdout"))
        #expect(reply.bool("truncated") == true)
        #expect(stdout.utf8.count < (1 << 20) + 200)
        #expect(stdout.hasPrefix("FIRST\n"))
        #expect(stdout.hasSuffix("LAST\n"))
        #expect(stdout.contains("bytes truncated ...]"))
        #expect(server.residentBytes() < 300 << 20, "server RSS \(server.residentBytes() >> 20) MiB")
    }

    @Test func childEnvironmentCarriesNoServerSecrets() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.bash(newAgent(), "env; cat /proc/self/environ | tr '\\0' '\\n'")
        let output = try #require(reply.string("stdout"))
        #expect(!output.contains(server.apiKey))
        #expect(!output.contains("AGENT_SANDBOX_"))
        #expect(!output.contains("server-only-canary"))
        #expect(output.contains("LANG=C.UTF-8"))
        #expect(output.contains("HOME=\(server.workspace(of: "").path)"))
    }

    @Test func inheritedDescriptorsAreClosed() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.bash(newAgent(), "ls /proc/self/fd | sort -n | tr '\\n' ' '")
        // 0-2 and the directory fd ls itself opens.
        #expect(reply.string("stdout") == "0 1 2 3 ")
    }

    @Test func invalidUTF8IsReplacedNotFatal() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.bash(newAgent(), "printf 'ok\\xff\\xfe\\n'")
        #expect(reply.string("status") == "ok")
        #expect(reply.string("stdout") == "ok\u{FFFD}\u{FFFD}\n")
    }

    @Test func nonZeroExitIsOkWithItsCode() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.bash(newAgent(), "echo oops >&2; exit 3")
        #expect(reply.string("status") == "ok")
        #expect(reply.int("exit_code") == 3)
        #expect(reply.string("stderr") == "oops\n")
        #expect(reply.json["error"] is NSNull)
    }

    @Test func workingDirStdinAndEnvAreApplied() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "mkdir -p sub/dir")
        let reply = try await server.call("bash", agent: agent, [
            "command": "pwd; cat; echo $MY_GREETING", "working_dir": "sub/dir", "stdin": "from-stdin\n", "env": ["MY_GREETING": "hello"],
        ])
        let workspace = server.workspace(of: agent).path
        #expect(reply.string("stdout") == "\(workspace)/sub/dir\nfrom-stdin\nhello\n")
        let escape = try await server.call("bash", agent: agent, ["command": "pwd", "working_dir": "../.."])
        #expect(escape.string("error_code") == "PATH_OUTSIDE_WORKSPACE")
    }
}
