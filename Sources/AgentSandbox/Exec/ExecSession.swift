#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation
import Synchronization
import SandboxKernel

/// The lifecycle state of an exec session as the API reports it.
public enum ExecSessionState: String, Sendable {
    /// The main process is running.
    case running
    /// The main process exited (any exit code; 124 with `timed_out` on timeout).
    case exited
    /// The main process was ended by a signal (`signal` names it, `exit_code` is 128 + its number) —
    /// whichever signal it was. See `ExecSession.attributed(_:signalSent:)` for sandboxed commands.
    case killed
    /// The server restarted while it was running: its processes were swept, its output is gone.
    case lost
}

/// One command started in the background for an agent: it can be waited on, fed stdin, signalled and
/// watched by any number of clients, each with its own cursor into the shared, bounded output log.
///
/// A dedicated thread (`ExecSessionPump`) does all pipe I/O; request handlers only touch the locked
/// state and wake that thread through a pipe. A session owns its processes: when its main process exits,
/// whatever it left running in its cgroup leaf is killed.
public final class ExecSession: Sendable {
    public let id: String
    public let agent: AgentID
    public let command: String
    /// Absolute directory the command started in.
    public let cwd: String
    public let background: Bool
    public let startedAt: Date
    /// The main process: also its process group and session id.
    public let pid: pid_t
    let group: CallGroup?
    /// The pseudo-terminal of a `tty: true` session (resize, size); nil for pipes.
    public let terminal: PseudoTerminal?
    /// Bumped for every chunk of output and at the end.
    public let changes = ChangeSignal()
    private let state: Mutex<State>

    struct State {
        var log: ExecOutputLog
        var stdinOpen: Bool
        var stdinQueue: [UInt8] = []
        var stdinEOF = false
        var finishedAt: Date?
        /// What `/wait` has handed out so far.
        var consumed = ExecCursor()
        /// Write end of the pipe that wakes the I/O thread; -1 once the session ended.
        var wakeFD: Int32
        /// The latest signal sent through `signal(_:)`.
        var signalSent: Int32?
        /// A signal that found no process of the command yet (the sandbox was still starting); the pump
        /// thread delivers it as soon as the command runs.
        var pendingSignal: Int32?
    }

    /// Bytes of stdin that may wait in the queue before `/stdin` answers 429.
    public static let stdinQueueLimit = 1 << 20

    init(id: String, agent: AgentID, command: String, cwd: String, background: Bool, process: SessionProcess, bufferBytes: Int, wakeFD: Int32, terminal: PseudoTerminal? = nil) {
        self.id = id
        self.agent = agent
        self.command = command
        self.cwd = cwd
        self.background = background
        startedAt = Date()
        pid = process.pid
        group = process.group
        self.terminal = terminal
        state = Mutex(State(log: ExecOutputLog(capacity: bufferBytes), stdinOpen: process.pipes.stdinWrite != nil, wakeFD: wakeFD))
    }

    // MARK: Reading

    public var isRunning: Bool { state.withLock { $0.log.exit == nil } }
    public var exit: ExecExit? { state.withLock { $0.log.exit?.status } }
    public var finishedAt: Date? { state.withLock { $0.finishedAt } }
    public var stdinOpen: Bool { state.withLock { $0.stdinOpen } }

    public var stateName: ExecSessionState {
        guard let exit else { return .running }
        return exit.signal != nil && !exit.timedOut ? .killed : .exited
    }

    /// Output totals: bytes produced and bytes dropped from the ring, per stream; and the newest event id.
    public var counters: (stdout: Int, stderr: Int, stdoutDropped: Int, stderrDropped: Int, lastEventID: UInt64) {
        state.withLock { state in
            (state.log.totalBytes(.stdout), state.log.totalBytes(.stderr), state.log.droppedBytes(.stdout),
             state.log.droppedBytes(.stderr), state.log.lastID)
        }
    }

    /// A watcher's starting point: the beginning of the buffered output, or just after `lastEventID`.
    public func cursor(after lastEventID: UInt64?) -> ExecCursor {
        guard let lastEventID else { return ExecCursor() }
        return state.withLock { $0.log.cursor(after: lastEventID) }
    }

    /// The events after `cursor` (at most about `limit` bytes of output).
    public func read(_ cursor: inout ExecCursor, limit: Int) -> [ExecEvent] {
        state.withLock { state in state.log.read(&cursor, limit: limit) }
    }

    /// The output `/wait` has not returned yet; advances the session's own cursor.
    public func consumeUnread(limit: Int) -> [ExecEvent] {
        state.withLock { state in state.log.read(&state.consumed, limit: limit) }
    }

    // MARK: Control

    /// Queues bytes for the command's stdin (and closes it after them when `eof`).
    public func writeStdin(_ bytes: [UInt8], eof: Bool) throws(ToolError) {
        try state.withLock { state throws(ToolError) in
            guard state.log.exit == nil else { throw ToolError(.sessionNotRunning, "Session \(id) has ended; it reads no more input.") }
            guard state.stdinOpen, !state.stdinEOF else {
                throw ToolError(.stdinClosed, "The stdin of session \(id) is closed. Start the session with \"keep_stdin_open\": true to write to it later.")
            }
            guard state.stdinQueue.count + bytes.count <= Self.stdinQueueLimit else {
                throw ToolError(.tooManyRequests, "Session \(id) has not read its pending stdin yet (\(state.stdinQueue.count) bytes); retry shortly.")
            }
            state.stdinQueue += bytes
            if eof { state.stdinEOF = true }
            Self.wake(state.wakeFD)
        }
    }

    /// Sends `signal` to the whole session tree (its cgroup leaf, else its process group). A signal sent
    /// while the sandbox is still starting (only bubblewrap's own processes exist yet) is not lost: it
    /// waits as `pendingSignal` and the pump thread delivers it once the command runs.
    public func signal(_ signal: Int32) throws(ToolError) {
        guard isRunning else { throw ToolError(.sessionNotRunning, "Session \(id) has already ended.") }
        state.withLock { $0.signalSent = signal; $0.pendingSignal = nil }
        guard !deliver(signal) else { return }
        state.withLock { state in
            guard state.signalSent == signal, state.log.exit == nil else { return }
            state.pendingSignal = signal
            Self.wake(state.wakeFD)
        }
    }

    /// Whether a signal is waiting for the command to start.
    var hasPendingSignal: Bool { state.withLock { $0.pendingSignal != nil } }

    /// Retries the pending signal (pump thread); clears it once it reached a process of the command.
    func deliverPendingSignal() {
        guard let signal = state.withLock({ $0.pendingSignal }), deliver(signal) else { return }
        state.withLock { if $0.pendingSignal == signal { $0.pendingSignal = nil } }
    }

    /// True when `signal` reached the command (SIGKILL always does: `cgroup.kill` takes the whole leaf).
    private func deliver(_ signal: Int32) -> Bool {
        guard let reached = group?.signal(signal) else {
            Glibc.kill(-pid, signal)
            return true
        }
        return reached > 0 || signal == SIGKILL
    }

    /// Ends the session now (SIGKILL to the whole tree); a no-op when it already ended.
    public func terminate() {
        try? signal(SIGKILL)
    }

    // MARK: For the pump thread

    func append(_ stream: ExecStream, _ bytes: [UInt8]) {
        state.withLock { $0.log.append(stream, bytes) }
        changes.bump()
    }

    /// Takes the queued stdin bytes and whether stdin should be closed after them.
    func takeStdin() -> (bytes: [UInt8], eof: Bool) {
        state.withLock { state in
            defer { state.stdinQueue = [] }
            return (state.stdinQueue, state.stdinEOF)
        }
    }

    /// The child closed its stdin (or the session is ending): later writes are refused.
    func stdinClosed() {
        state.withLock { $0.stdinOpen = false; $0.stdinQueue = [] }
    }

    func finish(_ exit: ExecExit) {
        state.withLock { state in
            state.log.finish(Self.attributed(exit, signalSent: state.signalSent))
            state.finishedAt = Date()
            state.stdinOpen = false
            state.stdinQueue = []
            if state.wakeFD >= 0 { close(state.wakeFD) }
            state.wakeFD = -1
        }
        terminal?.close()
        changes.bump()
    }

    /// One rule for every signal: a session ended by a signal is `killed` with that signal.
    ///
    /// Under bubblewrap the main process is bwrap's supervisor, which only ever *exits*: with 128 + N
    /// when the command died of signal N (SIGKILL alone takes bwrap itself down, so it was the only
    /// signal the wait status showed). So an exit with 128 + N right after signal N was sent through
    /// the API is that signal's work. An `exit 143` nobody signalled stays an exit.
    static func attributed(_ exit: ExecExit, signalSent: Int32?) -> ExecExit {
        guard exit.signal == nil, !exit.timedOut, let sent = signalSent, exit.exitCode == 128 + sent else { return exit }
        var killed = exit
        killed.signal = sent
        return killed
    }

    private static func wake(_ fd: Int32) {
        guard fd >= 0 else { return }
        var byte: UInt8 = 1
        _ = Glibc.write(fd, &byte, 1)
    }

    // MARK: Creation helpers

    /// A new unguessable session id.
    static func newID() -> String {
        "sess_" + (0..<4).map { _ in String(format: "%04x", UInt16.random(in: .min ... .max)) }.joined()
    }

    /// The non-blocking pipe that wakes the session's I/O thread (read end for the pump, write end for the session).
    static func makeWakePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        try syscallRetrying("pipe2") { csandbox_pipe_cloexec(&fds) }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return (fds[0], fds[1])
    }
}
