#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation

/// The poll loop of one running child: feeds stdin, collects stdout/stderr, notices exit through a
/// pidfd (or the warm sandbox's status pipe), and enforces the deadline.
package struct OutputLoop {
    package struct Ending {
        package var exitCode: Int32 = -1
        package var signal: Int32?
        package var timedOut = false
        /// The caller's task was cancelled (see `CallCancellation`).
        package var cancelled = false

        /// Takes a raw wait status.
        package mutating func record(_ status: Int32) {
            if WIFSIGNALED(status) {
                signal = WTERMSIG(status)
                exitCode = 128 + WTERMSIG(status)
            } else {
                exitCode = WEXITSTATUS(status)
            }
        }
    }

    /// How the main process's end is noticed.
    package enum ExitWatch {
        /// The server's own child: a pidfd says when, the `ChildReaper` says how.
        case child(pid_t)
        /// A call the warm sandbox's zygote forked: its raw wait status arrives on this pipe (end of file
        /// without one means the zygote died, taking the call with it: reported as SIGKILL, as is a
        /// forged reply, which the pipe records).
        case statusPipe(ZygoteStatusPipe)
    }

    package let exit: ExitWatch
    package let pipes: PipeSet
    package var stdinBytes: [UInt8]
    package var stdinOffset = 0
    package var stdout: OutputCollector
    package var stderr: OutputCollector
    /// Takes stdout in place of `stdout` when set.
    package let stdoutSink: (any OutputSink)?
    /// Readable when the calling task was cancelled: the call then ends as at its deadline.
    package let cancellation: CallCancellation?
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)

    /// After the main process exits and its tree is killed, how long to wait for the pipes to close.
    package static let drainGrace: Double = 2
    /// With a stdout sink, the longest wait between two reads while the child runs.
    package static let batchWaitMs: Int32 = 4
    package static let batchPipeBytes = 1 << 20
    /// Bytes the last drain of stdout read (counted with a sink only).
    private var lastStdoutRead = 0

    package init(exit: ExitWatch, pipes: PipeSet, stdin: [UInt8], limit: Int, stdoutSink: (any OutputSink)? = nil, cancellation: CallCancellation? = nil) {
        self.exit = exit
        self.cancellation = cancellation
        self.stdoutSink = stdoutSink
        self.pipes = pipes
        stdinBytes = stdin
        stdout = OutputCollector(limit: limit)
        stderr = OutputCollector(limit: limit)
    }

    /// Runs until the process has exited and both output pipes are closed (or the drain grace ran out).
    /// `terminate` is called once: when the main process exits, or at the deadline.
    package mutating func run(deadline: Date, terminate: () -> Void) -> Ending {
        var ending = Ending()
        let exitFD: Int32
        switch exit {
        case .child(let pid): exitFD = csandbox_pidfd_open(pid)
        case .statusPipe(let replies): exitFD = replies.fd
        }
        defer { if case .child = exit, exitFD >= 0 { close(exitFD) } }
        for fd in [pipes.stdoutRead, pipes.stderrRead, pipes.stdinWrite].compactMap({ $0 }) {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        if stdoutSink != nil {
            // A program whose output is parsed as it comes writes a lot of it: a 1 MiB pipe (the
            // default maximum) holds what arrives while the loop waits between reads (below).
            _ = fcntl(pipes.stdoutRead, csandbox_F_SETPIPE_SZ, Int32(Self.batchPipeBytes))
        }
        if stdinBytes.isEmpty { pipes.close(pipes.stdinWrite) }
        var openOutputs: [Int32] = [pipes.stdoutRead, pipes.stderrRead]
        var stdinOpen = !stdinBytes.isEmpty
        var exited = false
        var drainDeadline: Date?

        while !(exited && openOutputs.isEmpty) {
            let now = Date()
            if let drainDeadline, now >= drainDeadline { break }
            if !exited, now >= deadline, !ending.timedOut {
                ending.timedOut = true
                terminate()
                // Killed, its exit is due at once; a zygote that never reports one (stopped) ends the wait.
                drainDeadline = now.addingTimeInterval(Self.drainGrace)
            }
            if stdoutSink != nil, !exited, exitFD >= 0, !stdinOpen, lastStdoutRead < Self.batchPipeBytes / 2,
               openOutputs.contains(pipes.stdoutRead) {
                // Read in batches: wait up to `batchWait` for the exit only, not woken by each write
                // (a search printing megabytes would otherwise cost a wakeup per few KiB). A child that
                // half filled the pipe since the last read is read again at once instead.
                var exitOnly = pollfd(fd: exitFD, events: Int16(POLLIN), revents: 0)
                _ = poll(&exitOnly, 1, Self.batchWaitMs)
            }
            var fds = openOutputs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if stdinOpen, let stdinWrite = pipes.stdinWrite { fds.append(pollfd(fd: stdinWrite, events: Int16(POLLOUT), revents: 0)) }
            if !exited, exitFD >= 0 { fds.append(pollfd(fd: exitFD, events: Int16(POLLIN), revents: 0)) }
            let cancelFD = !exited && !ending.cancelled ? cancellation?.fd ?? -1 : -1
            if cancelFD >= 0 { fds.append(pollfd(fd: cancelFD, events: Int16(POLLIN), revents: 0)) }
            let until = drainDeadline ?? deadline
            var waitMs = Int32(max(0, min(until.timeIntervalSince(now) * 1000 + 1, 1000)))
            if exitFD < 0, !exited { waitMs = min(waitMs, 10) }
            _ = poll(&fds, nfds_t(fds.count), waitMs)

            for entry in fds where entry.revents != 0 {
                if entry.fd == exitFD { continue }
                if entry.fd == cancelFD {
                    // The caller gave up: kill the tree now, as at the deadline, and drain what is left.
                    ending.cancelled = true
                    terminate()
                    drainDeadline = Date().addingTimeInterval(Self.drainGrace)
                    continue
                }
                if entry.fd == pipes.stdinWrite {
                    stdinOpen = feedStdin()
                } else if !drain(entry.fd) {
                    pipes.close(entry.fd)
                    openOutputs.removeAll { $0 == entry.fd }
                }
            }
            // With an exit fd, its poll entry says when to look; without one (no pidfd), look every round.
            let exitFired = fds.contains { $0.fd == exitFD && $0.revents != 0 }
            if !exited, exitFired || exitFD < 0, let status = exitStatus(timeout: exitFired ? 1 : 0) {
                exited = true
                ending.record(status)
                terminate()
                drainDeadline = Date().addingTimeInterval(Self.drainGrace)
            }
        }
        if !exited {
            // Our own child was killed: reap it. A warm call's status never came (its zygote is stuck):
            // report it killed, as the leaf was.
            if case .child = exit { ending.record(waitBlocking()) } else { ending.record(SIGKILL) }
        }
        return ending
    }

    /// Reads what is available; false at EOF.
    private mutating func drain(_ fd: Int32) -> Bool {
        if fd == pipes.stdoutRead { lastStdoutRead = 0 }
        while true {
            let count = retryingEINTR { buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
            if count > 0 {
                buffer.withUnsafeBytes { bytes in
                    let chunk = UnsafeRawBufferPointer(rebasing: bytes[..<count])
                    if fd != pipes.stdoutRead {
                        stderr.append(chunk)
                    } else if let stdoutSink {
                        lastStdoutRead += count
                        stdoutSink.consume(chunk)
                    } else {
                        stdout.append(chunk)
                    }
                }
                if count < buffer.count { return true }
                continue
            }
            if count < 0, errno == EAGAIN { return true }
            return false
        }
    }

    /// Writes what the pipe takes; false once stdin is fully written (or the child closed it).
    private mutating func feedStdin() -> Bool {
        guard let fd = pipes.stdinWrite else { return false }
        while stdinOffset < stdinBytes.count {
            let written = retryingEINTR { stdinBytes.withUnsafeBytes { write(fd, $0.baseAddress! + stdinOffset, $0.count - stdinOffset) } }
            if written > 0 { stdinOffset += written; continue }
            if written < 0, errno == EAGAIN { return true }
            break
        }
        pipes.close(fd)
        return false
    }

    /// The main process's raw wait status, waiting up to `timeout` seconds; nil while it runs.
    private func exitStatus(timeout: Double) -> Int32? {
        switch exit {
        case .child(let pid):
            return ChildReaper.shared.status(of: pid, timeout: timeout)
        case .statusPipe(let replies):
            var ready = pollfd(fd: replies.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, Int32(timeout * 1000)) > 0 else { return nil }
            if case .exited(let status) = replies.read(timeout: 1) { return status }
            return SIGKILL
        }
    }

    private func waitBlocking() -> Int32 {
        while true {
            if let status = exitStatus(timeout: 1) { return status }
        }
    }
}

// Glibc's wait-status macros are not imported into Swift.
package func WIFSIGNALED(_ status: Int32) -> Bool { ((status & 0x7f) + 1) >> 1 > 0 && (status & 0x7f) != 0x7f && (status & 0x7f) != 0 }
package func WTERMSIG(_ status: Int32) -> Int32 { status & 0x7f }
package func WEXITSTATUS(_ status: Int32) -> Int32 { (status >> 8) & 0xff }
