#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation

extension ProcessLauncher {
    /// Seconds a warm sandbox's zygote may take to fork a call before it is taken for gone.
    static let warmForkTimeout: Double = 10

    /// Runs `request` through its agent's warm sandbox; a zygote that vanished before the call started
    /// is replaced once. A forged reply stops the sandbox and fails the call (`LaunchError`).
    func runWarm(_ request: LaunchRequest, pool: WarmSandboxPool, cgroups: CgroupController) async throws -> ProcessResult {
        var attempt = 0
        while true {
            attempt += 1
            let sandbox = try await pool.sandbox(for: request, launcher: self)
            do {
                return try await CallThreads.shared.run { [self] () throws(any Error) in
                    try self.runBlocking(request, in: sandbox, cgroups: cgroups)
                }
            } catch is WarmSandbox.Gone {
                await pool.discard(sandbox)
                if attempt >= 2 { throw LaunchError(description: "the agent's sandbox stopped while the command was being started; retry the call") }
            } catch is WarmSandbox.Forged {
                // Not retried: the command may have run. The sandbox (and whatever forged the reply) goes.
                await pool.discard(sandbox)
                throw LaunchError(description: "the agent's sandbox gave a reply the server cannot authenticate (a process of the agent interfered with the call), so the sandbox was stopped and the result discarded; retry the call")
            }
        }
    }

    /// One call in a warm sandbox: the server makes the cgroup leaf, pipes and `cgroup.procs`
    /// descriptors, the zygote forks and execs, the output loop runs here as for any call.
    func runBlocking(_ request: LaunchRequest, in sandbox: WarmSandbox, cgroups: CgroupController) throws -> ProcessResult {
        let started = Date()
        let group = cgroups.makeCallGroup(agent: request.agent, limits: request.limits ?? limits)
        guard group.leaf != nil else {
            // The leaf is a warm call's only kill handle: without one, take the cold path.
            group.remove()
            return try runBlocking(request)
        }
        defer { group.remove() }
        let pipes = try PipeSet(withStdin: request.stdin != nil)
        defer { pipes.closeAll() }
        var status: [Int32] = [-1, -1]
        try syscallRetrying("pipe2") { csandbox_pipe_cloexec(&status) }
        defer { close(status[0]) }

        var handed: [Int32] = [status[1]]  // ours to close once the zygote has its copies
        defer { handed.forEach { close($0) } }
        let stdin = try pipes.stdinRead ?? syscallRetrying("open", "/dev/null") { open("/dev/null", O_RDONLY | O_CLOEXEC) }
        if pipes.stdinRead == nil { handed.append(stdin) }
        // The zygote already sits in the agent's groups (v1 pids/memory/cpu): the child only moves to the
        // call's leaf. (Rewriting a v1 cgroup.procs costs ~75 µs per hierarchy even when nothing moves.)
        var joins: [Int32] = []
        for path in group.leaf.map({ [$0] }) ?? group.joinPaths {
            let fd = try syscallRetrying("open", "\(path)/cgroup.procs") { open("\(path)/cgroup.procs", O_WRONLY | O_CLOEXEC) }
            handed.append(fd)
            joins.append(fd)
        }
        let replies = try sandbox.submit(
            request, fds: [status[1], pipes.errorWrite, stdin, pipes.stdoutWrite, pipes.stderrWrite] + joins, statusRead: status[0])
        handed.forEach { close($0) }
        handed = []
        pipes.closeChildEnds()

        // The zygote forks at once; one that does not answer (stopped by the agent's own code) is gone.
        guard pipes.awaitHelper(timeout: Self.warmForkTimeout) else {
            sandbox.finished()
            throw WarmSandbox.Gone()
        }
        let failure = pipes.readHelperFailure()
        // The zygote replies STARTED (it forked) or REFUSED (it says why on the error pipe) before it closes
        // its copy of the error pipe; no reply means it died. Nothing here is believed without its HMAC.
        switch replies.read(timeout: 1) {
        case .started:
            break
        case .refused:
            sandbox.finished()
            throw LaunchError(description: failure.isEmpty ? "the agent's sandbox refused the command" : failure)
        case .closed:
            sandbox.finished()
            throw WarmSandbox.Gone()
        case .exited, .forged:
            sandbox.finished()
            throw WarmSandbox.Forged()
        }
        defer { sandbox.finished() }
        if !failure.isEmpty { throw LaunchError(description: failure) }

        var loop = OutputLoop(exit: .statusPipe(replies), pipes: pipes, stdin: request.stdin ?? [], limit: request.outputLimit,
            stdoutSink: request.stdoutSink, cancellation: request.cancellation)
        let ending = loop.run(deadline: started.addingTimeInterval(request.timeout)) { group.kill() }
        if replies.forged { throw WarmSandbox.Forged() }
        return ProcessResult(loop: loop, ending: ending, started: started)
    }
}
