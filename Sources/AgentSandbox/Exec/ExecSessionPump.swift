#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation
import SandboxKernel

/// The I/O thread of one exec session: reads stdout/stderr into the session's log as it arrives,
/// writes queued stdin, notices the main process's exit through a pidfd, enforces the timeout, then
/// kills what the command left behind, drains the pipes, records the exit and releases the cgroup leaf.
struct ExecSessionPump {
    let session: ExecSession
    let pipes: PipeSet
    let wakeRead: Int32
    /// When the whole tree is killed (exit code 124); nil for no timeout.
    let deadline: Date?
    private var utf8 = [UTF8Boundary(), UTF8Boundary()]
    /// The write end of the child's stdin while it is open.
    private var stdinFD: Int32?
    private var stdinBuffer: [UInt8] = []
    private var stdinOffset = 0
    private var stdinEOF = false
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)

    init(session: ExecSession, pipes: PipeSet, wakeRead: Int32, deadline: Date?) {
        self.session = session
        self.pipes = pipes
        self.wakeRead = wakeRead
        self.deadline = deadline
        stdinFD = pipes.stdinWrite
    }

    /// Starts the thread; `onEnd` runs on it after the exit was recorded.
    static func start(_ pump: ExecSessionPump, onEnd: @escaping @Sendable (ExecSession) -> Void) {
        let box = UncheckedBox(pump)
        let thread = Thread {
            var pump = box.value
            pump.run()
            onEnd(pump.session)
        }
        thread.name = "exec-\(pump.session.id)"
        thread.start()
    }

    mutating func run() {
        let pid = session.pid
        let pidfd = csandbox_pidfd_open(pid)
        for fd in [pipes.stdoutRead, pipes.stderrRead, pipes.stdinWrite].compactMap({ $0 }) {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        var open: [Int32] = [pipes.stdoutRead, pipes.stderrRead]
        var ending: ExecExit?
        var timedOut = false
        var drainDeadline: Date?
        while !(ending != nil && open.isEmpty) {
            let now = Date()
            if let drainDeadline, now >= drainDeadline { break }
            if ending == nil, !timedOut, let deadline, now >= deadline {
                timedOut = true
                killTree()
            }
            if ending == nil, session.hasPendingSignal { session.deliverPendingSignal() }
            refillStdin()
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            fds.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
            if let stdinWrite = stdinFD, stdinOffset < stdinBuffer.count {
                fds.append(pollfd(fd: stdinWrite, events: Int16(POLLOUT), revents: 0))
            }
            if ending == nil, pidfd >= 0 { fds.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)) }
            // Idle sessions sleep long: exit (pidfd), output and stdin (wake pipe) all interrupt the poll.
            var waitMs = pidfd >= 0 ? 60_000.0 : 1000.0
            if let until = drainDeadline ?? (ending == nil && !timedOut ? deadline : nil) { waitMs = min(waitMs, until.timeIntervalSince(now) * 1000 + 1) }
            if utf8.contains(where: { !$0.held.isEmpty }) || (pidfd < 0 && ending == nil) { waitMs = min(waitMs, 10) }
            // A signal sent while the sandbox was starting: look again for the command every 2 ms.
            if ending == nil, session.hasPendingSignal { waitMs = min(waitMs, 2) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(max(0, waitMs)))
            if ready == 0 { flushHeldUTF8() }

            for entry in fds where entry.revents != 0 {
                if entry.fd == pidfd { continue }
                if entry.fd == wakeRead {
                    drainWakePipe()
                } else if entry.fd == stdinFD {
                    feedStdin()
                } else if !drain(entry.fd) {
                    flush(entry.fd == pipes.stdoutRead ? .stdout : .stderr)
                    pipes.close(entry.fd)
                    open.removeAll { $0 == entry.fd }
                }
            }
            let pidfdFired = fds.contains { $0.fd == pidfd && $0.revents != 0 }
            if ending == nil, pidfdFired || pidfd < 0, let status = ChildReaper.shared.status(of: pid, timeout: pidfdFired ? 1 : 0) {
                ending = Self.exit(from: status, timedOut: timedOut)
                // The main process is gone: a session owns its processes, so nothing it started outlives it.
                killTree()
                closeStdin()
                drainDeadline = Date().addingTimeInterval(OutputLoop.drainGrace)
            }
        }
        if ending == nil {
            while ending == nil {
                if let status = ChildReaper.shared.status(of: pid, timeout: 1) { ending = Self.exit(from: status, timedOut: timedOut) }
            }
        }
        flushHeldUTF8()
        if pidfd >= 0 { close(pidfd) }
        pipes.closeAll()
        close(wakeRead)
        session.group?.remove()
        session.finish(ending!)
    }

    private func killTree() {
        session.group?.kill()
        Glibc.kill(-session.pid, SIGKILL)
    }

    private static func exit(from status: Int32, timedOut: Bool) -> ExecExit {
        if timedOut { return ExecExit(exitCode: 124, signal: WIFSIGNALED(status) ? WTERMSIG(status) : nil, timedOut: true) }
        if WIFSIGNALED(status) { return ExecExit(exitCode: 128 + WTERMSIG(status), signal: WTERMSIG(status), timedOut: false) }
        return ExecExit(exitCode: WEXITSTATUS(status), signal: nil, timedOut: false)
    }

    /// Reads what is available into the log; false at EOF.
    private mutating func drain(_ fd: Int32) -> Bool {
        let stream: ExecStream = fd == pipes.stdoutRead ? .stdout : .stderr
        while true {
            let count = retryingEINTR { buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
            if count > 0 {
                let complete = utf8[stream.rawValue].take(buffer[..<count])
                if !complete.isEmpty { session.append(stream, complete) }
                if count < buffer.count { return true }
                continue
            }
            return count < 0 && errno == EAGAIN
        }
    }

    private mutating func flush(_ stream: ExecStream) {
        let rest = utf8[stream.rawValue].flush()
        if !rest.isEmpty { session.append(stream, rest) }
    }

    private mutating func flushHeldUTF8() {
        for stream in ExecStream.allCases { flush(stream) }
    }

    private func drainWakePipe() {
        var scratch = [UInt8](repeating: 0, count: 64)
        while scratch.withUnsafeMutableBytes({ read(wakeRead, $0.baseAddress, $0.count) }) > 0 {}
    }

    /// Moves queued stdin from the session into the local buffer; closes stdin after the last byte on EOF.
    private mutating func refillStdin() {
        guard stdinFD != nil, stdinOffset >= stdinBuffer.count else { return }
        let (bytes, eof) = session.takeStdin()
        stdinBuffer = bytes
        stdinOffset = 0
        if eof { stdinEOF = true }
        if stdinBuffer.isEmpty, stdinEOF { closeStdin() }
    }

    private mutating func feedStdin() {
        guard let fd = stdinFD else { return }
        while stdinOffset < stdinBuffer.count {
            let written = retryingEINTR { stdinBuffer.withUnsafeBytes { write(fd, $0.baseAddress! + stdinOffset, $0.count - stdinOffset) } }
            if written > 0 { stdinOffset += written; continue }
            if written < 0, errno == EAGAIN { return }
            closeStdin()  // EPIPE: the command closed its stdin.
            return
        }
    }

    private mutating func closeStdin() {
        guard let fd = stdinFD else { return }
        pipes.close(fd)
        stdinFD = nil
        stdinBuffer = []
        stdinOffset = 0
        session.stdinClosed()
    }
}

/// Carries a non-Sendable value to the thread that alone uses it from then on.
struct UncheckedBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
