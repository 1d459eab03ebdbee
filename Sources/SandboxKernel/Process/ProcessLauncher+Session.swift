#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A process tree started for an exec session: its pid (also its process group and session id), the
/// parent's ends of its pipes, and the cgroup leaf it owns until it ends.
package struct SessionProcess: @unchecked Sendable {
    package let pid: pid_t
    package let pipes: PipeSet
    package let group: CallGroup?
}

extension ProcessLauncher {
    /// Starts `request` for a long-lived exec session through the same helper as every call (cgroup leaf,
    /// rlimits, fd closing, setsid, uid drop, no_new_privs). Returns once the command was exec'd.
    ///
    /// The spawn runs on a long-lived spawn thread, never a short-lived one: bubblewrap's
    /// `--die-with-parent` (PR_SET_PDEATHSIG) fires when the *thread* that spawned it exits, which
    /// would kill a background session the moment its spawning thread returned.
    package func startSession(_ request: LaunchRequest, withStdin: Bool) async throws -> SessionProcess {
        let request = try await attachingNetwork(request)
        return try await BlockingWork.runSpawn { [self] in try self.startBlocking(request, withStdin: withStdin) }
    }

    /// Creates the call's cgroup leaf and pipes, spawns the helper and waits until it exec'd (or reports
    /// the step that failed). The caller owns the returned pipes and group. Used by calls and sessions.
    func startBlocking(_ request: LaunchRequest, withStdin: Bool) throws -> SessionProcess {
        let group = cgroups?.makeCallGroup(agent: request.agent, limits: request.limits ?? limits)
        let pipes: PipeSet
        do {
            pipes = try PipeSet(withStdin: withStdin)
        } catch {
            group?.remove()
            throw error
        }
        do {
            let pid = try spawn(arguments: helperArguments(request, group: group), environment: request.environment, pipes: pipes)
            pipes.closeChildEnds()
            let failure = pipes.readHelperFailure()
            if !failure.isEmpty {
                _ = ChildReaper.shared.status(of: pid, timeout: 5)
                throw LaunchError(description: failure)
            }
            return SessionProcess(pid: pid, pipes: pipes, group: group)
        } catch {
            pipes.closeAll()
            group?.remove()
            throw error
        }
    }
}
