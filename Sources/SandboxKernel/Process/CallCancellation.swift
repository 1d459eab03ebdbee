#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// A Swift task's cancellation as a descriptor the output loop polls: `ProcessLauncher.run` makes one
/// per call and fires it from the task's cancellation handler, and the loop then ends the call as it
/// ends a timed-out one — the call's cgroup and process group are killed, the output drained.
///
/// So a caller that gives up (an MCP client's `notifications/cancelled`) leaves nothing running.
package final class CallCancellation: Sendable {
    /// A pipe's read end, readable once fired; -1 when none could be made (the call then only times out).
    package let fd: Int32
    private let writeFD: Int32

    package init() {
        var fds: [Int32] = [-1, -1]
        if (try? syscallRetrying("pipe2") { csandbox_pipe_cloexec(&fds) }) == nil { fds = [-1, -1] }
        fd = fds[0]
        writeFD = fds[1]
    }

    /// Marks the call cancelled (from any thread; idempotent: the pipe stays readable).
    package func fire() {
        guard writeFD >= 0 else { return }
        var byte: UInt8 = 1
        _ = try? syscallRetrying("write", "cancellation pipe") { write(writeFD, &byte, 1) }
    }

    deinit {
        if fd >= 0 { close(fd) }
        if writeFD >= 0 { close(writeFD) }
    }
}
