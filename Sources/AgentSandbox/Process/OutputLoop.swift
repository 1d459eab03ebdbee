#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation

/// The poll loop of one running child: feeds stdin, collects stdout/stderr, notices exit through a
/// pidfd, and enforces the deadline.
struct OutputLoop {
    struct Ending {
        var exitCode: Int32 = -1
        var signal: Int32?
        var timedOut = false
    }

    let pid: pid_t
    let pipes: PipeSet
    var stdinBytes: [UInt8]
    var stdinOffset = 0
    var stdout: OutputCollector
    var stderr: OutputCollector
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)

    /// After the main process exits and its tree is killed, how long to wait for the pipes to close.
    static let drainGrace: Double = 2

    init(pid: pid_t, pipes: PipeSet, stdin: [UInt8], limit: Int) {
        self.pid = pid
        self.pipes = pipes
        stdinBytes = stdin
        stdout = OutputCollector(limit: limit)
        stderr = OutputCollector(limit: limit)
    }

    /// Runs until the process has exited and both output pipes are closed (or the drain grace ran out).
    /// `terminate` is called once: when the main process exits, or at the deadline.
    mutating func run(deadline: Date, terminate: () -> Void) -> Ending {
        var ending = Ending()
        let pidfd = csandbox_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        for fd in [pipes.stdoutRead, pipes.stderrRead, pipes.stdinWrite].compactMap({ $0 }) {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
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
            }
            var fds = openOutputs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if stdinOpen, let stdinWrite = pipes.stdinWrite { fds.append(pollfd(fd: stdinWrite, events: Int16(POLLOUT), revents: 0)) }
            if !exited, pidfd >= 0 { fds.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)) }
            let until = drainDeadline ?? (ending.timedOut ? now.addingTimeInterval(Self.drainGrace) : deadline)
            var waitMs = Int32(max(0, min(until.timeIntervalSince(now) * 1000 + 1, 1000)))
            if pidfd < 0, !exited { waitMs = min(waitMs, 10) }
            _ = poll(&fds, nfds_t(fds.count), waitMs)

            for entry in fds where entry.revents != 0 {
                if entry.fd == pidfd { continue }
                if entry.fd == pipes.stdinWrite {
                    stdinOpen = feedStdin()
                } else if !drain(entry.fd) {
                    pipes.close(entry.fd)
                    openOutputs.removeAll { $0 == entry.fd }
                }
            }
            let pidfdFired = fds.contains { $0.fd == pidfd && $0.revents != 0 }
            if !exited, let status = pidfdFired ? ChildReaper.shared.status(of: pid, timeout: 1) : reap() {
                exited = true
                if WIFSIGNALED(status) {
                    ending.signal = WTERMSIG(status)
                    ending.exitCode = 128 + WTERMSIG(status)
                } else {
                    ending.exitCode = WEXITSTATUS(status)
                }
                terminate()
                drainDeadline = Date().addingTimeInterval(Self.drainGrace)
            }
        }
        if !exited { _ = waitBlocking() }
        return ending
    }

    /// Reads what is available; false at EOF.
    private mutating func drain(_ fd: Int32) -> Bool {
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                buffer.withUnsafeBytes { bytes in
                    let chunk = UnsafeRawBufferPointer(rebasing: bytes[..<count])
                    if fd == pipes.stdoutRead { stdout.append(chunk) } else { stderr.append(chunk) }
                }
                if count < buffer.count { return true }
                continue
            }
            if count < 0, errno == EINTR { continue }
            if count < 0, errno == EAGAIN { return true }
            return false
        }
    }

    /// Writes what the pipe takes; false once stdin is fully written (or the child closed it).
    private mutating func feedStdin() -> Bool {
        guard let fd = pipes.stdinWrite else { return false }
        while stdinOffset < stdinBytes.count {
            let written = stdinBytes.withUnsafeBytes { write(fd, $0.baseAddress! + stdinOffset, $0.count - stdinOffset) }
            if written > 0 { stdinOffset += written; continue }
            if written < 0, errno == EINTR { continue }
            if written < 0, errno == EAGAIN { return true }
            break
        }
        pipes.close(fd)
        return false
    }

    private func reap() -> Int32? {
        ChildReaper.shared.status(of: pid, timeout: 0)
    }

    private func waitBlocking() -> Int32 {
        while true {
            if let status = ChildReaper.shared.status(of: pid, timeout: 1) { return status }
        }
    }
}

// Glibc's wait-status macros are not imported into Swift.
func WIFSIGNALED(_ status: Int32) -> Bool { ((status & 0x7f) + 1) >> 1 > 0 && (status & 0x7f) != 0x7f && (status & 0x7f) != 0 }
func WTERMSIG(_ status: Int32) -> Int32 { status & 0x7f }
func WEXITSTATUS(_ status: Int32) -> Int32 { (status >> 8) & 0xff }
