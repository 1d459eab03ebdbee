import Foundation
import Testing

/// Attacks on the warm sandbox's control channel (issue 13, finding 3): agent code must not take the
/// zygote's socket, see another call's command line or environment, or answer a call in its place.
@Suite(.enabled(if: isRoot, "needs root"), .serialized)
struct AdversarialZygoteTests {
    @Test func agentCodeCannotTakeTheControlSocketOrReadTheZygote() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "true")
        let uid = try await server.uid(of: agent)
        // bubblewrap's monitor stays in the host pid namespace holding the socket: hand its host pid to
        // the probe, which must still not reach it (that pid means nothing, or another process, inside).
        let monitor = try #require(warmSandboxProcesses(ownedBy: uid).first { namespacePids($0).count == 1 })
        let zygote = try #require(warmSandboxProcesses(ownedBy: uid).first { namespacePids($0).count == 2 })
        #expect(namespacePids(zygote).last == 1, "the zygote is the sandbox's pid 1")
        #expect(socketInode(monitor, fd: 0) == socketInode(zygote, fd: 0), "the monitor does hold the socket")
        #expect(warmSandboxCore(ownedBy: uid).count == 2, "no bubblewrap init beside the zygote")
        #expect(warmSandboxProcesses(ownedBy: uid).allSatisfy { namespacePids($0).count <= 2 || namespacePids($0).last == 1 },
            "the rest are call slots, each the init of its own pid namespace")

        let reply = try await server.bash(agent, "cat > probe.py <<'PY'\n\(ZygoteProbes.reach)\nPY\npython3 probe.py \(monitor)")
        let lines = try #require(reply.string("stdout")).split(separator: "\n").map(String.init)
        #expect(lines.first == "pid1 /run/sandbox-init --zygote", "\(reply.text)")
        #expect(!lines.contains { $0.contains("STOLEN") || $0.contains("OPENED") }, "\(lines)")
        let getfd = lines.filter { $0.hasPrefix("pidfd_getfd ") }
        #expect(!getfd.isEmpty && getfd.allSatisfy { $0.hasSuffix(" EPERM") }, "\(getfd)")
        #expect(lines.contains("pidfd_getfd 1 0 EPERM"), "pid 1's fd 0 (the socket) stays out of reach")
        #expect(lines.contains("ptrace_attach 1 -1 EPERM"))
        #expect(lines.contains("process_vm_readv 1 -1 EPERM") && lines.contains("process_vm_writev 1 -1 EPERM"))
        let monitorLine = lines.first { $0.hasPrefix("pidfd_open \(monitor) ") || $0.hasPrefix("pidfd_getfd \(monitor) ") }
        #expect(monitorLine == "pidfd_open \(monitor) ESRCH", "the monitor's host pid is not visible inside: \(lines)")
        #expect(lines.contains("open /proc/1/fd/0 EACCES") && lines.contains("open /proc/1/mem EACCES"), "\(lines)")
    }

    @Test func coldCallsUnderBubblewrapRunUnderTheSameFilter() async throws {
        let server = try await TestServer(extraArguments: ["--disable-warm-sandboxes"]).start()
        defer { server.stop() }
        let reply = try await server.bash(newAgent(), """
            grep '^Seccomp:' /proc/self/status
            python3 -c 'import ctypes; libc = ctypes.CDLL(None, use_errno=True); print("traceme", libc.ptrace(0, 0, 0, 0), ctypes.get_errno())'
            """)
        #expect(reply.string("stdout") == "Seccomp:\t2\ntraceme -1 1\n", "\(reply.text)")
    }

    @Test func aRacingProcessOfTheAgentNeverReceivesALaterCallOrItsSecret() async throws {
        let server = try await TestServer().start()
        let agent = newAgent(), bystander = newAgent()
        _ = try await server.bash(bystander, "true")
        let write = try await server.bash(agent, "cat > attack.py <<'PY'\n\(ZygoteProbes.race)\nPY\necho written")
        #expect(write.string("stdout") == "written\n")
        async let attack = server.bash(agent, "python3 attack.py 5; tail -1 attack.log", timeout: 60)
        let ready = server.workspace(of: agent).appendingPathComponent("attack.ready").path
        #expect(await eventually(within: 20) { FileManager.default.fileExists(atPath: ready) }, "the attacker is running")

        var secrets: [String] = []
        var latencies: [Double] = []
        for _ in 0..<10 {
            let secret = "s3cret-\(UUID().uuidString)"
            secrets.append(secret)
            let reply = try await server.call("bash", agent: agent, ["command": "printf 'real:%s' \"$SECRET\"", "env": ["SECRET": secret]])
            #expect(reply.string("stdout") == "real:\(secret)" && reply.int("exit_code") == 0, "the API gives the real command's result: \(reply.text)")
            let started = Date()
            let echo = try await server.bash(bystander, "echo ok")
            latencies.append(Date().timeIntervalSince(started))
            #expect(echo.string("stdout") == "ok\n", "the bystander keeps answering: \(echo.text)")
        }
        let summary = try await attack.string("stdout") ?? ""
        let log = (try? String(contentsOf: server.workspace(of: agent).appendingPathComponent("attack.log"), encoding: .utf8)) ?? ""
        #expect(summary.hasPrefix("sweeps=") && summary.hasSuffix(" stolen=0\n"), "the attacker swept and took nothing: \(summary)")
        #expect(!log.contains("STOLE"), "\(log)")
        for secret in secrets { #expect(!log.contains(secret)) }
        let p99 = latencies.sorted()[latencies.count * 99 / 100]
        #expect(p99 < 1, "bystander p99 \(p99) s")

        let uid = try await server.uid(of: agent)
        let process = try #require(server.process)
        server.stop()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "the server stopped cleanly on SIGTERM")
        #expect(await eventually(within: 5) { everyProcess(ownedBy: uid).isEmpty }, "nothing of the agent outlives the server")
    }

    /// The one way left to answer for the sandbox is root's (no agent can): the server must still tell the
    /// forgery apart, refuse its result and replace the sandbox. Calls go from the server straight to a
    /// call slot, so root takes the agent's one slot's socket (its fd 0).
    @Test func aForgedReplyIsRejectedAndTheSandboxReplaced() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "true")
        let uid = try await server.uid(of: agent)
        let slot = try #require(warmSandboxProcesses(ownedBy: uid).first { namespacePids($0).count == 3 })
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("forge-\(agent).py")
        try ZygoteProbes.forge.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let forger = Process()
        forger.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        forger.arguments = [script.path, String(slot)]
        let output = Pipe()
        forger.standardOutput = output
        try forger.run()
        defer { if forger.isRunning { forger.terminate() }; kill(slot, SIGCONT) }
        #expect(output.fileHandleForReading.readLine() == "ready")

        let reply = try await server.bash(agent, "echo real")
        #expect(reply.string("error_code") == "EXEC_FAILED", "\(reply.text)")
        #expect(!reply.text.contains("forged-output"), "the forged output never reaches the API")
        #expect(reply.string("error")?.contains("cannot authenticate") == true, "\(reply.text)")
        forger.waitUntilExit()
        #expect(forger.terminationStatus == 0, "the forger did answer the call")

        let again = try await server.bash(agent, "echo again")
        #expect(again.string("stdout") == "again\n", "\(again.text)")
        #expect(!warmSandboxProcesses(ownedBy: uid).contains(slot), "the forged-at sandbox was replaced")
    }

    @Test func aCallSeesExactlyTheEnvironmentSentAndTheZygoteKeepsNoneOfIt() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let secret = "zygote-heap-\(UUID().uuidString)"
        let reply = try await server.call("bash", agent: agent, ["command": "tr '\\0' '\\n' < /proc/$$/environ", "env": ["SECRET": secret]])
        let root = server.workspace(of: agent).path
        let expected = ["HOME=\(root)", "LANG=C.UTF-8", "LOGNAME=agent", "PATH=/usr/local/bin:/usr/bin:/bin", "PWD=\(root)",
                        "SECRET=\(secret)", "SHELL=/bin/bash", "TERM=dumb", "USER=agent"]
        #expect(reply.string("stdout")?.split(separator: "\n").map(String.init).sorted() == expected, "\(reply.text)")
        // Read the zygote's and its call slots' memory as root: the call's payload was wiped after the
        // hand-over and after the fork.
        let uid = try await server.uid(of: agent)
        let holders = warmSandboxProcesses(ownedBy: uid).filter { namespacePids($0).count >= 2 }
        #expect(holders.count >= 2, "the zygote and at least one call slot")
        for pid in holders {
            let memory = try writableMemory(of: pid)
            #expect(memory.count > 0)
            #expect(memory.range(of: Data(secret.utf8)) == nil, "process \(pid) no longer holds the call's environment")
        }
    }
}

/// The pids `pid` has in each pid namespace, outermost first (`NSpid:` of /proc/<pid>/status).
func namespacePids(_ pid: Int32) -> [Int32] {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("NSpid:") } ?? ""
    return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().compactMap { Int32($0) }
}

/// The warm sandbox without its call slots: bubblewrap's monitor and the zygote (the slots, each the init
/// of a pid namespace one level deeper, are made and ended as calls come and go).
func warmSandboxCore(ownedBy uid: Int) -> [Int32] {
    warmSandboxProcesses(ownedBy: uid).filter { namespacePids($0).count <= 2 }
}

/// What `/proc/<pid>/fd/<fd>` points at (`socket:[inode]`).
private func socketInode(_ pid: Int32, fd: Int32) -> String? {
    try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")
}

/// The private writable mappings of `pid` (heap, stack, data), read through /proc/<pid>/mem.
private func writableMemory(of pid: Int32) throws -> Data {
    let maps = readProcFile("/proc/\(pid)/maps")
    let mem = open("/proc/\(pid)/mem", O_RDONLY)
    guard mem >= 0 else { throw TestFailure("open /proc/\(pid)/mem: errno \(errno)") }
    defer { close(mem) }
    var memory = Data()
    for line in maps.split(separator: "\n") {
        let fields = line.split(separator: " ")
        guard fields.count >= 2, fields[1].hasPrefix("rw") else { continue }
        let range = fields[0].split(separator: "-").compactMap { UInt64($0, radix: 16) }
        guard range.count == 2, range[1] - range[0] < 64 << 20 else { continue }
        var chunk = [UInt8](repeating: 0, count: Int(range[1] - range[0]))
        let count = pread(mem, &chunk, chunk.count, off_t(range[0]))
        if count > 0 { memory.append(contentsOf: chunk[..<count]) }
    }
    return memory
}

private extension FileHandle {
    /// One line from the pipe (blocking), without its newline.
    func readLine() -> String? {
        var bytes: [UInt8] = []
        while let byte = try? read(upToCount: 1), let first = byte.first {
            if first == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(first)
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }
}
