import Foundation
@testable import SandboxKernel
import Testing

/// The server's reaper takes the statuses of the children it spawned, and of agents' orphans, and
/// nothing else: a child another spawner in the same process started keeps its exit status.
@Suite(.serialized)
struct ChildReaperTests {
    /// What the other thread's spawn returned (read after its semaphore).
    final class Outcome: @unchecked Sendable {
        var value: String? = "not finished"
    }

    @Test func aFoundationProcessKeepsItsExitStatusWhileTheReaperReapsItsOwnChild() throws {
        ChildReaper.shared.start()
        // The reaper's own child runs alongside and ends after the Process's child.
        let hostToolDone = DispatchSemaphore(value: 0)
        let hostToolFailure = Outcome()
        DispatchQueue.global().async {
            hostToolFailure.value = HostCommand.run("/bin/sh", ["-c", "sleep 0.5; exit 3"], accepted: [3])
            hostToolDone.signal()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "sleep 0.1; exit 7"]
        let ended = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in ended.signal() }
        try process.run()
        #expect(ended.wait(timeout: .now() + 60) == .success, "Foundation noticed its child's end")
        #expect(process.terminationStatus == 7, "the status the child exited with, not one the reaper took")
        #expect(hostToolDone.wait(timeout: .now() + 60) == .success)
        #expect(hostToolFailure.value == nil, "the reaper's own child exited 3, an accepted status")
    }

    @Test(.enabled(if: getuid() == 0))
    func anAgentsOrphanIsReapedWithoutLeavingAZombie() throws {
        ChildReaper.shared.start()
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("orphan-\(UUID().uuidString)").path
        defer { unlink(pidFile) }
        // The shell exits at once; its background child (uid 65534, like an agent's) is re-parented to
        // this process, a subreaper once the reaper runs, and exits a moment later.
        let failure = HostCommand.run("/bin/sh", ["-c", "setpriv --reuid=65534 --regid=65534 --clear-groups sleep 0.3 </dev/null >/dev/null 2>&1 & echo $! > \(pidFile)"])
        #expect(failure == nil)
        let orphan = try #require(pid_t(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        var gone = false
        for _ in 0..<300 where !gone {
            gone = access("/proc/\(orphan)", F_OK) != 0
            if !gone { usleep(100_000) }
        }
        #expect(gone, "the orphan's exit was reaped (no zombie left under /proc)")
    }
}
