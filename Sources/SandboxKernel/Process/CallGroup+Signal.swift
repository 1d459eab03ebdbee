#if canImport(Glibc)
import Glibc
#endif

extension CallGroup {
    /// Sends `signal` to every process in the leaf (daemons and `setsid` children included); SIGKILL also
    /// uses `cgroup.kill`. Returns how many processes it reached — 0 while the leaf holds only the
    /// sandbox's own supervisors (bubblewrap has not exec'd the command yet) — or nil when there is no
    /// leaf (the caller falls back to the process group). Never waits: safe on Swift's cooperative threads.
    @discardableResult
    public func signal(_ signal: Int32) -> Int? {
        guard let leaf else { return nil }
        if signal == SIGKILL, killable { writeControlFile("\(leaf)/cgroup.kill", "1") }
        var reached = 0
        for pid in Self.pids(below: leaf) where signal == SIGKILL || !Self.isSandboxSupervisor(pid) {
            if Glibc.kill(pid, signal) == 0 { reached += 1 }
        }
        return reached
    }

    /// bubblewrap's own processes (the supervisor and the namespace's init) stand between the server
    /// and the agent's program: a SIGTERM meant for the program must not take the sandbox down (they
    /// do not forward it), so only SIGKILL reaches them.
    static func isSandboxSupervisor(_ pid: pid_t) -> Bool {
        var buffer = [CChar](repeating: 0, count: 256)
        let count = readlink("/proc/\(pid)/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return false }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self).hasSuffix("/bwrap")
    }
}
