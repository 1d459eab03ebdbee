#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// The pipes between the server and one child: stdin (optional), stdout, stderr, and the helper's
/// error pipe (fd 3 in the child; EOF without data means the exec succeeded). All are `O_CLOEXEC`.
package final class PipeSet {
    private(set) var stdinRead: Int32?
    package private(set) var stdinWrite: Int32?
    package let stdoutRead: Int32, stdoutWrite: Int32
    package let stderrRead: Int32, stderrWrite: Int32
    package let errorRead: Int32, errorWrite: Int32
    private var closed: Set<Int32> = []

    package init(withStdin: Bool) throws {
        func makePipe() throws -> (Int32, Int32) {
            var fds: [Int32] = [0, 0]
            try syscallRetrying("pipe2") { csandbox_pipe_cloexec(&fds) }
            return (fds[0], fds[1])
        }
        (stdoutRead, stdoutWrite) = try makePipe()
        (stderrRead, stderrWrite) = try makePipe()
        (errorRead, errorWrite) = try makePipe()
        if withStdin { (stdinRead, stdinWrite) = try makePipe() }
    }

    /// A pseudo-terminal's descriptors in the pipes' places: the child gets `slave` as fds 0–2; the server
    /// reads output from `master` (as stdout) and writes input to a duplicate of it (as stdin). stderr is a
    /// pipe whose write end is closed at once (the terminal carries both streams). Takes both descriptors.
    package init(terminalMaster master: Int32, slave: Int32) throws {
        func makePipe() throws -> (Int32, Int32) {
            var fds: [Int32] = [0, 0]
            try syscallRetrying("pipe2") { csandbox_pipe_cloexec(&fds) }
            return (fds[0], fds[1])
        }
        stdoutRead = master
        (stdoutWrite, stdinRead) = (slave, slave)
        stdinWrite = try syscallRetrying("dup") { fcntl(master, F_DUPFD_CLOEXEC, 0) }
        let (noStderr, unused) = try makePipe()
        Glibc.close(unused)
        (stderrRead, stderrWrite) = (noStderr, slave)
        (errorRead, errorWrite) = try makePipe()
    }

    /// Pipes for a warm sandbox's zygote: its stdin is `socket` (the zygote's end of the control socket,
    /// closed with the other child ends); stdout and stderr are pipes as usual.
    package convenience init(stdinSocket socket: Int32) throws {
        try self.init(withStdin: false)
        stdinRead = socket
    }

    package func close(_ fd: Int32?) {
        guard let fd, !closed.contains(fd) else { return }
        closed.insert(fd)
        _ = Glibc.close(fd)
    }

    package func closeChildEnds() {
        close(stdinRead)
        close(stdoutWrite)
        close(stderrWrite)
        close(errorWrite)
    }

    package func closeAll() {
        for fd in [stdinRead, stdinWrite, stdoutRead, stdoutWrite, stderrRead, stderrWrite, errorRead, errorWrite] { close(fd) }
    }

    /// What the child wrote to stderr so far (non-blocking; at most 4 KiB): a failed start's reason.
    package func readAvailableStderr() -> String {
        _ = fcntl(stderrRead, F_SETFL, fcntl(stderrRead, F_GETFL) | O_NONBLOCK)
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(stderrRead, $0.baseAddress, $0.count) }
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
    }

    /// Waits up to `timeout` seconds for the helper to exec or report (its error pipe readable or closed).
    package func awaitHelper(timeout: Double) -> Bool {
        var ready = pollfd(fd: errorRead, events: Int16(POLLIN), revents: 0)
        return retryingEINTR { poll(&ready, 1, Int32(timeout * 1000)) } > 0
    }

    /// Blocks until the helper execs (EOF) or reports a failed step; returns that report.
    package func readHelperFailure() -> String {
        var report: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            let count = retryingEINTR { buffer.withUnsafeMutableBytes { read(errorRead, $0.baseAddress, $0.count) } }
            if count <= 0 { break }
            report += buffer[..<count]
        }
        close(errorRead)
        return String(decoding: report, as: UTF8.self)
    }
}
