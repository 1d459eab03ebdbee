#if canImport(Glibc)
import Glibc
#endif

extension CallGroup {
    /// Sends `signal` to every process in the leaf (daemons and `setsid` children included); SIGKILL also
    /// uses `cgroup.kill`. Returns false when there is no leaf (the caller falls back to the process group).
    /// Never waits: safe on Swift's cooperative threads.
    @discardableResult
    public func signal(_ signal: Int32) -> Bool {
        guard let leaf else { return false }
        if signal == SIGKILL, killable { writeControlFile("\(leaf)/cgroup.kill", "1") }
        for pid in Self.pids(below: leaf) { Glibc.kill(pid, signal) }
        return true
    }
}
