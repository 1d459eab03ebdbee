import Foundation
import Testing

/// Full isolation keeps one bubblewrap sandbox per agent warm and forks each call inside it.
@Suite(.enabled(if: isRoot, "needs root"))
struct WarmSandboxTests {
    @Test func callsOfAnAgentShareOneWarmSandbox() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let uid = try await server.uid(of: agent)
        let first = Set(warmSandboxCore(ownedBy: uid))
        #expect(first.count == 2, "bubblewrap's monitor and the zygote (the namespace's init)")
        let reply = try await server.bash(agent, "cat /proc/1/cmdline | tr '\\0' ' '; echo; cat /proc/self/cgroup")
        let stdout = try #require(reply.string("stdout"))
        #expect(stdout.contains("/run/sandbox-init --zygote"), "the namespace's init is the zygote's call slot")
        let unified = stdout.split(separator: "\n").first { $0.hasPrefix("0::") } ?? ""
        #expect(unified.contains("/call-"), "the call runs in its own leaf, not the sandbox's: \(stdout)")
        #expect(Set(warmSandboxCore(ownedBy: uid)) == first, "the second call reused the sandbox")
    }

    @Test func aCallsEnvironmentNeverReachesTheSandbox() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let reply = try await server.call("bash", agent: agent, ["command": "true", "env": ["CALL_SECRET": "warm-canary-\(agent)"]])
        #expect(reply.int("exit_code") == 0)
        let uid = try #require(try await server.agentInfo(agent).int("uid"))
        let sandbox = warmSandboxProcesses(ownedBy: uid)
        #expect(!sandbox.isEmpty)
        for pid in sandbox {
            let environ = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))) ?? Data()
            #expect(!String(decoding: environ, as: UTF8.self).contains("warm-canary"))
        }
    }

    /// The zygote holds the descriptors of every call it starts (root-opened `cgroup.procs` among them):
    /// the agent's own code, same uid, must not be able to attach to it or open them.
    @Test func callsCannotTraceTheZygoteOrOpenItsDescriptors() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.bash(newAgent(), """
            tr '\\0' ' ' < /proc/1/cmdline; echo
            ls /proc/1/fd >/dev/null 2>&1 && echo fd-listing-allowed
            cat /proc/1/environ >/dev/null 2>&1 && echo environ-allowed
            python3 -c 'import ctypes; libc = ctypes.CDLL(None, use_errno=True); print("attach", libc.ptrace(16, 1, 0, 0), ctypes.get_errno())'
            """)
        let stdout = try #require(reply.string("stdout"))
        #expect(stdout.hasPrefix("/run/sandbox-init --zygote"), "pid 1 is the zygote: \(stdout)")
        #expect(!stdout.contains("allowed"), "\(stdout)")
        #expect(stdout.contains("attach -1 1\n"), "PTRACE_ATTACH fails with EPERM: \(stdout)")
    }

    /// The zygote is the namespace's init: the agent's own `kill -9 -1` (or a SIGSTOP) cannot reach it.
    @Test func theAgentsSignalsDoNotStopTheSandbox() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let uid = try await server.uid(of: agent)
        let before = Set(warmSandboxCore(ownedBy: uid))
        _ = try await server.bash(agent, "kill -STOP 1; kill -9 1; kill -9 -1")
        let after = try await server.bash(agent, "echo alive")
        #expect(after.string("stdout") == "alive\n", "\(after.text)")
        #expect(Set(warmSandboxCore(ownedBy: uid)) == before, "the same sandbox took the call")
    }

    @Test func aKilledSandboxIsReplacedOnTheNextCall() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let uid = try await server.uid(of: agent)
        let before = Set(warmSandboxProcesses(ownedBy: uid))
        // Something outside the sandbox (the OOM killer, an operator) kills its init.
        for pid in before where namespacePids(pid).count == 2 { kill(pid, SIGKILL) }
        #expect(await eventually(within: 3) { Set(warmSandboxProcesses(ownedBy: uid)).isDisjoint(with: before) })
        let after = try await server.bash(agent, "echo alive")
        #expect(after.string("stdout") == "alive\n")
        let replaced = Set(warmSandboxCore(ownedBy: uid))
        #expect(replaced.count == 2 && replaced.isDisjoint(with: before))
    }

    @Test func timeoutKillsTheCallsTreeButNotTheSandbox() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let uid = try await server.uid(of: agent)
        let sandbox = Set(warmSandboxCore(ownedBy: uid))
        let reply = try await server.bash(agent, "setsid sleep 60 & (sleep 70 &) ; sleep 80", timeout: 1)
        #expect(reply.int("exit_code") == 124)
        #expect(await eventually(within: 3) { processes(ownedBy: uid).isEmpty }, "every process of the call is gone")
        #expect(Set(warmSandboxCore(ownedBy: uid)) == sandbox)
    }

    @Test func anIdleSandboxStopsAndRestartsOnDemand() async throws {
        let server = try await TestServer(extraArguments: ["--warm-sandbox-idle", "1"]).start()
        defer { server.stop() }
        let agent = newAgent()
        let first = try await server.bash(agent, "echo kept > /tmp/note; cat /tmp/note; tr '\\0' ' ' < /proc/1/cmdline")
        #expect(first.string("stdout")?.hasPrefix("kept\n") == true)
        #expect(first.string("stdout")?.contains("/run/sandbox-init --zygote") == true, "the call ran in a warm sandbox")
        let uid = try #require(try await server.agentInfo(agent).int("uid"))
        #expect(await eventually(within: 5) { everyProcess(ownedBy: uid).isEmpty }, "an idle agent runs nothing")
        let again = try await server.bash(agent, "cat /tmp/note 2>/dev/null || echo fresh; tr '\\0' ' ' < /proc/1/cmdline")
        #expect(again.string("stdout")?.hasPrefix("fresh\n") == true, "the private /tmp went with the sandbox")
        #expect(again.string("stdout")?.contains("/run/sandbox-init --zygote") == true, "a new warm sandbox took the call")
    }

    @Test func withoutWarmSandboxesEachCallStartsItsOwnBubblewrap() async throws {
        let server = try await TestServer(extraArguments: ["--disable-warm-sandboxes"]).start()
        defer { server.stop() }
        let agent = newAgent()
        let reply = try await server.bash(agent, "cat /proc/1/cmdline | tr '\\0' ' '")
        #expect(reply.string("stdout")?.contains("/bin/bash -c cat /proc/1/cmdline") == true, "\(reply.text)")
        let uid = try #require(try await server.agentInfo(agent).int("uid"))
        #expect(await eventually(within: 2) { everyProcess(ownedBy: uid).isEmpty }, "nothing of the call is left running")
    }
}
