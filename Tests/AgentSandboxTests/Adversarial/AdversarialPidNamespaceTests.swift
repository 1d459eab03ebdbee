import Foundation
import Testing

/// Secrets in `env` reach only the call they were sent with (issue 13): every call of an agent's warm
/// sandbox runs in a pid namespace of its own with its own `/proc`, so another process of the same agent
/// (same uid) — a detached leftover of a running call, a background exec session, a concurrent call —
/// cannot see it in `/proc` at all: not its environ, cmdline, fds or memory.
@Suite(.enabled(if: isRoot, "needs root"), .serialized)
struct AdversarialPidNamespaceTests {
    @Test func leftoverProcessesAndSessionsNeverSeeALaterCallsSecret() async throws {
        let server = try await TestServer().start()
        let agent = newAgent(), bystander = newAgent()
        _ = try await server.bash(bystander, "true")
        let write = try await server.bash(agent, "cat > spy.py <<'PY'\n\(PidNamespaceProbes.spy)\nPY\necho written")
        #expect(write.string("stdout") == "written\n")
        let workspace = server.workspace(of: agent)

        // A detached, nohup'd leftover of a call that keeps running, and a background exec session.
        async let leftoverCall = server.bash(agent, """
            setsid nohup python3 spy.py leftover 90 until:spies.stop >/dev/null 2>&1 </dev/null &
            while [ ! -e leftover.log ] || ! grep -q '^sweeps=' leftover.log; do sleep 0.1; done
            tail -1 leftover.log
            """, timeout: 120)
        let session = try await server.startSession(agent, "python3 spy.py session 90 until:spies.stop",
            ["env": ["SECRET": PidNamespaceProbes.secretPrefix + UUID().uuidString.lowercased()]])
        for name in ["leftover", "session"] {
            let started = workspace.appendingPathComponent("\(name).started").path
            #expect(await eventually(within: 30) { FileManager.default.fileExists(atPath: started) }, "the \(name) spy runs")
        }

        var secrets: [String] = []
        var latencies: [Double] = []
        for round in 0..<8 {
            let secret = PidNamespaceProbes.secretPrefix + UUID().uuidString.lowercased()
            secrets.append(secret)
            // The secret stays in a live process (environ, stack) for half a second, and in its cmdline too.
            let reply = try await server.call("bash", agent: agent, [
                "command": "sleep 0.5; printf 'real:%s' \"$SECRET\" # \(secret)", "env": ["SECRET": secret]])
            #expect(reply.string("stdout") == "real:\(secret)", "round \(round): \(reply.text)")
            let started = Date()
            let echo = try await server.bash(bystander, "echo ok")
            latencies.append(Date().timeIntervalSince(started))
            #expect(echo.string("stdout") == "ok\n", "the bystander keeps answering: \(echo.text)")
        }
        _ = try await server.bash(agent, "touch spies.stop")
        let leftover = try await leftoverCall
        let ended = try await server.wait(agent, session, timeout: 60)
        #expect(ended.int("exit_code") == 0, "\(ended.text)")
        let sessionLog = (try? String(contentsOf: workspace.appendingPathComponent("session.log"), encoding: .utf8)) ?? ""
        let leftoverLog = (try? String(contentsOf: workspace.appendingPathComponent("leftover.log"), encoding: .utf8)) ?? ""
        #expect(leftover.string("stdout")?.hasSuffix(" hits=0\n") == true, "the leftover swept and saw no secret: \(leftover.text)")
        #expect(sessionLog.contains("own=1 ") && sessionLog.hasSuffix(" hits=0\n"),
            "the session read its own secret from its shell and no other: \(sessionLog)")
        for secret in secrets {
            #expect(!sessionLog.contains(secret) && !leftoverLog.contains(secret))
        }
        let p99 = latencies.sorted()[latencies.count * 99 / 100]
        #expect(p99 < 1, "bystander p99 \(p99) s")

        let uid = try await server.uid(of: agent)
        #expect(await eventually(within: 5) { processes(ownedBy: uid).isEmpty }, "the leftover ended with its call")
        let process = try #require(server.process)
        server.stop()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "the server stopped cleanly on SIGTERM")
        #expect(await eventually(within: 5) { everyProcess(ownedBy: uid).isEmpty }, "nothing of the agent outlives the server")
    }

    @Test func twoConcurrentCallsNeverSeeEachOthersSecret() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "cat > spy.py <<'PY'\n\(PidNamespaceProbes.spy)\nPY")
        let (a, b) = (PidNamespaceProbes.secretPrefix + UUID().uuidString.lowercased(), PidNamespaceProbes.secretPrefix + UUID().uuidString.lowercased())
        // `; true` keeps each call's bash alive beside its spy: the process whose environ holds its own secret.
        async let first = server.call("bash", agent: agent, ["command": "python3 spy.py a 60 peer:b; true", "env": ["SECRET": a], "timeout": 90])
        async let second = server.call("bash", agent: agent, ["command": "python3 spy.py b 60 peer:a; true", "env": ["SECRET": b], "timeout": 90])
        let (replyA, replyB) = try await (first, second)
        for (reply, other) in [(replyA, b), (replyB, a)] {
            let summary = reply.string("stdout") ?? ""
            #expect(summary.contains("own=1 peer=1 hits=0"), "each read its own secret, overlapped the other, saw none of it: \(reply.text)")
            #expect(!summary.contains(other))
        }
    }

    @Test func aCallSeesOnlyItsOwnProcessesAndHoldsNoCapability() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "true")
        async let busy = server.bash(agent, "sleep 3; true # concurrent-marker")  // bash stays, marker in its cmdline
        try await Task.sleep(for: .milliseconds(500))
        let reply = try await server.bash(agent, #"""
            tr '\0' ' ' < /proc/1/cmdline; echo
            for p in /proc/[0-9]*; do tr '\0' ' ' < $p/cmdline; echo; done | grep -c "[c]oncurrent-marker"
            grep -E '^Cap(Inh|Prm|Eff|Amb)' /proc/self/status | tr '\t' ' '
            unshare -m true 2>/dev/null && echo unshare-mount-ns-allowed
            unshare -p -f true 2>/dev/null && echo unshare-pid-ns-allowed
            mkdir -p /tmp/p && mount -t proc proc /tmp/p 2>/dev/null && echo mount-allowed
            python3 -c '
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            for ns in ("mnt", "pid"):
                fd = os.open(f"/proc/self/ns/{ns}", os.O_RDONLY)
                print("setns", ns, libc.setns(fd, 0), ctypes.get_errno())
            try: os.open("/proc/1/ns/pid", os.O_RDONLY); print("opened pid 1 ns")
            except OSError as e: print("pid 1 ns", e.errno)'
            """#)
        let lines = (reply.string("stdout") ?? "").split(separator: "\n").map(String.init)
        #expect(lines.first == "/run/sandbox-init --zygote ", "pid 1 is the call's slot, a fork of the zygote: \(reply.text)")
        #expect(lines.dropFirst().first == "0", "the concurrent call is not in /proc: \(reply.text)")
        for cap in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
            #expect(lines.contains("\(cap): 0000000000000000"), "\(cap) is empty: \(reply.text)")
        }
        #expect(!lines.contains { $0.hasSuffix("-allowed") }, "\(reply.text)")
        #expect(lines.contains("setns mnt -1 1") && lines.contains("setns pid -1 1"), "setns fails with EPERM: \(reply.text)")
        #expect(lines.contains("pid 1 ns 13"), "the slot's init is not dumpable: \(reply.text)")
        _ = try await busy

        // From the host: the slot's init kept no capability either; the zygote kept only CAP_SYS_ADMIN.
        let uid = try await server.uid(of: agent)
        let slots = warmSandboxProcesses(ownedBy: uid).filter { namespacePids($0).count == 3 }
        let zygote = try #require(warmSandboxProcesses(ownedBy: uid).first { namespacePids($0).count == 2 })
        #expect(!slots.isEmpty && slots.allSatisfy { capabilities($0)["CapEff"] == "0000000000000000" }, "\(slots)")
        #expect(capabilities(zygote)["CapEff"] == "0000000000200000", "the zygote: CAP_SYS_ADMIN only")
    }
}

/// The `Cap*:` lines of `/proc/<pid>/status`, by name.
private func capabilities(_ pid: Int32) -> [String: String] {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    var result: [String: String] = [:]
    for line in status.split(separator: "\n") where line.hasPrefix("Cap") {
        let parts = line.split(separator: "\t")
        if parts.count == 2 { result[String(parts[0].dropLast())] = String(parts[1]) }
    }
    return result
}
