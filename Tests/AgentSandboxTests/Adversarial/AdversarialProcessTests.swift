import Foundation
import Testing

/// Attacks on other processes, the server's process and privileges.
@Suite(.enabled(if: isRoot, "needs root"))
struct AdversarialProcessTests {
    @Test func serverEnvironAndCmdlineAreOutOfReach() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.bash(newAgent(), "cat /proc/\(server.pid)/environ; cat /proc/\(server.pid)/cmdline; ls /proc/\(server.pid)/fd")
        let output = (reply.string("stdout") ?? "") + (reply.string("stderr") ?? "")
        #expect(!output.contains(server.apiKey))
        #expect(!output.contains("server-only-canary"))
        #expect(!output.contains("--uid-base"), "the server's argv is not visible (pid namespace)")
    }

    @Test(arguments: ["full", "cgroup"])
    func otherAgentsProcFilesAreOutOfReach(isolation: String) async throws {
        let server = try await TestServer.shared(isolation: isolation)
        let (a, b) = (newAgent(), newAgent())
        _ = try await server.bash(a, "true")
        _ = try await server.bash(b, "true")
        let uidB = try #require(try await server.agentInfo(b).int("uid"))
        async let victim = server.call("bash", agent: b, ["command": "sleep 2; true", "env": ["VICTIM_SECRET": "b-secret-env"]])
        #expect(await eventually(within: 5) { processes(ownedBy: uidB).count >= 2 })
        let pids = everyProcess(ownedBy: uidB)
        #expect(!pids.isEmpty)
        let probe = pids.map { "cat /proc/\($0)/environ; readlink /proc/\($0)/cwd; ls /proc/\($0)/fd; cat /proc/\($0)/maps | head -1" }.joined(separator: "; ")
        let reply = try await server.bash(a, probe)
        let output = (reply.string("stdout") ?? "")
        #expect(!output.contains("b-secret-env"))
        #expect(!output.contains(b), "no cwd of B's processes")
        _ = try await victim
    }

    @Test func psShowsOnlyTheAgentsOwnProcesses() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.bash(newAgent(), "ps -e -o pid= | wc -l; ps -e -o comm=")
        let lines = reply.string("stdout")?.split(separator: "\n") ?? []
        let count = Int(lines.first?.trimmingCharacters(in: .whitespaces) ?? "") ?? 99
        #expect(count <= 5, "only bwrap, bash and ps are visible: \(lines)")
        #expect(!(reply.string("stdout") ?? "").contains("agent-sandbox"))
    }

    @Test func noNewPrivsNoCapabilitiesAndSetuidBinariesDoNotElevate() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.bash(newAgent(), """
            grep -E '^(NoNewPrivs|CapEff|CapPrm|CapBnd)' /proc/self/status
            su -c id root </dev/null; echo su=$?
            mount -t tmpfs none /tmp 2>&1; echo mount=$?
            unshare -U true; echo unshare=$?
            id -u
            """)
        let stdout = try #require(reply.string("stdout"))
        #expect(stdout.contains("NoNewPrivs:\t1"))
        #expect(stdout.contains("CapEff:\t0000000000000000"))
        #expect(stdout.contains("CapPrm:\t0000000000000000"))
        #expect(!stdout.contains("su=0") && !stdout.contains("mount=0") && !stdout.contains("unshare=0"))
        #expect(!stdout.contains("uid=0"))
    }

    @Test func noControllingTerminalAndTIOCSTIFails() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.bash(newAgent(), """
            tty; exec 3</dev/tty && echo opened-tty
            python3 -c 'import fcntl, termios
            try:
                fcntl.ioctl(0, termios.TIOCSTI, b"x"); print("injected")
            except OSError as e: print("refused", e.errno)'
            """)
        let stdout = try #require(reply.string("stdout"))
        #expect(stdout.contains("not a tty"))
        #expect(!stdout.contains("opened-tty"))
        #expect(stdout.contains("refused") && !stdout.contains("injected"))
    }

    @Test func agentsCannotConnectToTheServerListener() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.bash(newAgent(), """
            (exec 3<>/dev/tcp/127.0.0.1/\(server.port)) 2>/dev/null && echo reached-server || echo refused
            """)
        #expect(reply.string("stdout") == "refused\n", "\(reply.text)")
    }

    @Test func networkNoneAgentsSeeOnlyTheirOwnLoopback() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        #expect(try await server.post("/v1/agents", json: ["agent_id": agent, "network": "none"]).status == 201)
        let reply = try await server.bash(agent, """
            (exec 3<>/dev/tcp/127.0.0.1/\(server.port)) 2>/dev/null && echo reached-server || echo no-server
            cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '
            """)
        #expect(reply.string("stdout") == "no-server\nlo\n", "\(reply.text)")
    }

    @Test func inheritedDescriptorsAboveStderrAreClosed() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.bash(newAgent(), "for fd in 3 4 5 6 7 8 9 10 20 50; do [ -e /proc/$$/fd/$fd ] && echo open-$fd; done; echo checked")
        #expect(reply.string("stdout") == "checked\n")
    }

    @Test func zombiesDoNotBuildUp() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "true")
        let uid = try #require(try await server.agentInfo(agent).int("uid"))
        _ = try await server.bash(agent, "python3 -c 'import os, time\nfor _ in range(50):\n    if os.fork() == 0: os._exit(0)\ntime.sleep(0.3)' & sleep 0.5; exit 0")
        #expect(await eventually(within: 3) { leftovers(ownedBy: uid).isEmpty }, "no zombie or live process of the agent remains")
    }
}
