#if canImport(Glibc)
import Glibc
#endif
import Foundation

extension ProcessLauncher {
    /// Starts `request` for a `tty: true` exec session: like `startSession`, through the same helper
    /// (cgroup leaf, rlimits, fd closing, setsid, uid drop, no_new_privs, bubblewrap), but with the slave
    /// of a new pseudo-terminal as the child's fds 0–2. The master stays with the server: the returned
    /// pipes read and write a duplicate of it, and `PseudoTerminal` keeps one for resizing.
    package func startTerminalSession(_ request: LaunchRequest, cols: Int, rows: Int) async throws -> (SessionProcess, PseudoTerminal) {
        try await BlockingWork.runSpawn { [self] in try self.startTerminalBlocking(request, cols: cols, rows: rows) }
    }

    private func startTerminalBlocking(_ request: LaunchRequest, cols: Int, rows: Int) throws -> (SessionProcess, PseudoTerminal) {
        let (terminal, slave) = try PseudoTerminal.open(for: request.identity, cols: cols, rows: rows)
        let pipes: PipeSet
        do {
            pipes = try PipeSet(terminalMaster: try terminal.duplicateMaster(), slave: slave)
        } catch {
            close(slave)
            terminal.close()
            throw error
        }
        let group = cgroups?.makeCallGroup(agent: request.agent, limits: request.limits ?? limits)
        do {
            let pid = try spawn(arguments: helperArguments(request, group: group), environment: request.environment, pipes: pipes)
            pipes.closeChildEnds()
            let failure = pipes.readHelperFailure()
            if !failure.isEmpty {
                _ = ChildReaper.shared.status(of: pid, timeout: 5)
                throw LaunchError(description: failure)
            }
            return (SessionProcess(pid: pid, pipes: pipes, group: group), terminal)
        } catch {
            pipes.closeAll()
            group?.remove()
            terminal.close()
            throw error
        }
    }
}
