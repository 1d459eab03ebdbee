#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Synchronization

/// The server's side of a `tty: true` exec session: the pty master, kept only by the server.
///
/// The pair is opened on the host's devpts by the server (root); the slave becomes fds 0–2 of the
/// session's process tree (owned by the agent's uid, mode 0600) and the master never leaves this process
/// — every descriptor is `O_CLOEXEC` and the helper closes all it inherits — so no agent process can read
/// another terminal's input or write into it. The session's pump reads and writes a duplicate of the
/// master; this object keeps its own for `resize`, closed when the session ends.
public final class PseudoTerminal: Sendable {
    /// The smallest and largest window the API accepts (columns and rows alike).
    public static let sizeRange: ClosedRange<Int> = 1...1000
    public static let defaultSize = (cols: 80, rows: 24)

    private struct State {
        var master: Int32
        var cols: Int
        var rows: Int
    }

    private let state: Mutex<State>

    private init(master: Int32, cols: Int, rows: Int) {
        state = Mutex(State(master: master, cols: cols, rows: rows))
    }

    /// Opens a pair for `identity` (nil: the server's own uid) with the window `cols` x `rows`.
    /// Returns the terminal and the slave descriptor, which the caller hands to the child and closes.
    static func open(for identity: Identity?, cols: Int, rows: Int) throws -> (PseudoTerminal, slave: Int32) {
        var masterFD: Int32 = -1, slaveFD: Int32 = -1
        try syscallRetrying("openpty") {
            csandbox_pty_open(&masterFD, &slaveFD, identity?.uid ?? getuid(), identity?.gid ?? getgid(), UInt16(cols), UInt16(rows))
        }
        return (PseudoTerminal(master: masterFD, cols: cols, rows: rows), slaveFD)
    }

    /// A duplicate of the master (close-on-exec) for the session's I/O thread, which owns it.
    func duplicateMaster() throws -> Int32 {
        try state.withLock { state throws(SystemCallError) in
            try syscallRetrying("dup") { fcntl(state.master, F_DUPFD_CLOEXEC, 0) }
        }
    }

    /// Sets the window size (TIOCSWINSZ): the kernel sends SIGWINCH to the terminal's foreground
    /// process group. False once the session ended.
    @discardableResult
    public func resize(cols: Int, rows: Int) -> Bool {
        state.withLock { state in
            guard state.master >= 0, csandbox_pty_resize(state.master, UInt16(cols), UInt16(rows)) == 0 else { return false }
            (state.cols, state.rows) = (cols, rows)
            return true
        }
    }

    /// The window size last set (kept after the session ended).
    public var size: (cols: Int, rows: Int) {
        state.withLock { ($0.cols, $0.rows) }
    }

    /// Releases the master (the session ended).
    package func close() {
        state.withLock { state in
            if state.master >= 0 { _ = Glibc.close(state.master) }
            state.master = -1
        }
    }

    deinit { close() }
}

extension PseudoTerminal {
    /// The window size of the terminal on `fd` (TIOCGWINSZ), e.g. the CLI's own; nil when it is not one.
    public static func windowSize(of fd: Int32) -> (cols: Int, rows: Int)? {
        var cols: UInt16 = 0, rows: UInt16 = 0
        guard csandbox_pty_size(fd, &cols, &rows) == 0, cols > 0, rows > 0 else { return nil }
        return (Int(cols), Int(rows))
    }
}
