#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation

/// Reaps the children the server spawned (`ChildSpawn` registers each one) and keeps their statuses
/// until a launcher claims them with `status(of:timeout:)`. It waits for registered pids only — one
/// pidfd per child, `waitpid(pid)` when it fires — so a child someone else in the process started
/// (Foundation's `Process`, a library's spawner) keeps its status for its own `waitpid`.
///
/// The server is a child subreaper: the orphans of a killed process tree are re-parented to it. Those
/// run as an agent's uid, never the server's, so a sweep after each exit (and once a second) reaps
/// exited children that are neither registered nor the server's uid — while no spawn is between
/// `posix_spawn` and its registration, so a child is never taken before its spawner registered it.
public final class ChildReaper: @unchecked Sendable {
    public static let shared = ChildReaper()

    private let condition = NSCondition()
    /// Registered children still running: pid → pidfd (-1 where pidfd_open failed; polled then).
    private var watched: [pid_t: Int32] = [:]
    private var statuses: [pid_t: (status: Int32, reaped: Date)] = [:]
    /// Spawns between `posix_spawn` and registration: the orphan sweep waits for none.
    private var spawnsInFlight = 0
    private var running = false
    /// Written to wake the reaping thread when a child registers.
    private var wake: [Int32] = [-1, -1]

    /// Becomes a subreaper and starts the reaping thread (idempotent).
    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !running else { return }
        guard csandbox_pipe_cloexec(&wake) == 0 else { return }
        _ = fcntl(wake[0], F_SETFL, fcntl(wake[0], F_GETFL) | O_NONBLOCK)
        _ = fcntl(wake[1], F_SETFL, fcntl(wake[1], F_GETFL) | O_NONBLOCK)
        running = true
        _ = csandbox_set_child_subreaper()
        let thread = Thread { [self] in reapForever() }
        thread.name = "child-reaper"
        thread.start()
    }

    /// Runs `spawn` (a `posix_spawn` returning the new pid, or nil when it failed) and registers the
    /// child; the orphan sweep does not run in between.
    package func spawning(_ spawn: () -> pid_t?) {
        start()
        condition.lock()
        spawnsInFlight += 1
        condition.unlock()
        let pid = spawn()
        condition.lock()
        spawnsInFlight -= 1
        if let pid { watched[pid] = csandbox_pidfd_open(pid) }
        condition.unlock()
        if pid != nil { _ = retryingEINTR { write(wake[1], "w", 1) } }
    }

    /// The raw wait status of `pid`, waiting up to `timeout` seconds; nil if it has not exited yet.
    package func status(of pid: pid_t, timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let entry = statuses.removeValue(forKey: pid) { return entry.status }
            if !condition.wait(until: deadline) { return statuses.removeValue(forKey: pid)?.status }
        }
    }

    private func reapForever() {
        var lastSweep = Date()
        while true {
            condition.lock()
            let children = watched
            condition.unlock()
            var fds = [pollfd(fd: wake[0], events: Int16(POLLIN), revents: 0)]
            fds += children.values.filter { $0 >= 0 }.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            // Children without a pidfd (kernels before 5.3) are polled with WNOHANG every 20 ms.
            let timeout: Int32 = children.values.contains(-1) ? 20 : 1000
            let ready = retryingEINTR { poll(&fds, nfds_t(fds.count), timeout) }
            if ready > 0, fds[0].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 64)
                while read(wake[0], &drain, drain.count) > 0 {}
            }
            var exited = false
            for (pid, pidfd) in children where pidfd < 0 || fds.contains(where: { $0.fd == pidfd && $0.revents != 0 }) {
                var status: Int32 = 0
                guard retryingEINTR({ waitpid(pid, &status, WNOHANG) }) == pid else { continue }
                record(pid, status: status)
                exited = true
            }
            if exited || Date().timeIntervalSince(lastSweep) >= 1 {
                if orphanMayBeWaiting() { sweepOrphans() }
                lastSweep = Date()
            }
        }
    }

    private func record(_ pid: pid_t, status: Int32) {
        condition.lock()
        if let pidfd = watched.removeValue(forKey: pid), pidfd >= 0 { close(pidfd) }
        statuses[pid] = (status, Date())
        if statuses.count > 256 {
            // Statuses nobody claims: forget them after a minute.
            let cutoff = Date().addingTimeInterval(-60)
            statuses = statuses.filter { $0.value.reaped > cutoff }
        }
        condition.broadcast()
        condition.unlock()
    }

    /// Whether an exited child other than a registered one may be waiting: one `waitid(WNOWAIT)` that
    /// reaps nothing. After a call's own child was reaped there is usually none, and the sweep (a read
    /// of every thread's `children` file, ~30 files) is skipped: it would run beside the call's reply on
    /// a busy machine. A registered child found here is reaped when its pidfd fires; the next look then
    /// sees past it.
    private func orphanMayBeWaiting() -> Bool {
        var uid: UInt32 = 0
        let pid = csandbox_peek_exited_child(&uid)
        guard pid > 0 else { return false }
        condition.lock()
        defer { condition.unlock() }
        return watched[pid] == nil
    }

    /// Reaps exited children that are not registered and do not run as the server's uid: orphans of
    /// agents' process trees, re-parented here.
    private func sweepOrphans() {
        let ownUID = getuid()
        for pid in Self.children() {
            guard Self.isExited(pid), let uid = Self.realUID(of: pid), uid != ownUID else { continue }
            condition.lock()
            if spawnsInFlight == 0, watched[pid] == nil {
                var status: Int32 = 0
                _ = waitpid(pid, &status, WNOHANG)
            }
            condition.unlock()
        }
    }

    /// The process's children (of every thread): `/proc/self/task/*/children`.
    private static func children() -> [pid_t] {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return [] }
        return tasks.flatMap { task in
            (readSmallFile("/proc/self/task/\(task)/children") ?? "").split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
    }

    /// Whether `pid` is a zombie (state `Z` in `/proc/<pid>/stat`, after the command name's `)`).
    private static func isExited(_ pid: pid_t) -> Bool {
        guard let stat = readSmallFile("/proc/\(pid)/stat", limit: 4096), let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// The real uid on the `Uid:` line of `/proc/<pid>/status`.
    private static func realUID(of pid: pid_t) -> uid_t? {
        guard let status = readSmallFile("/proc/\(pid)/status", limit: 8192),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }) else { return nil }
        return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { uid_t($0) }
    }
}
