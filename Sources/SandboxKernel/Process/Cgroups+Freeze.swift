#if canImport(Glibc)
import Glibc
#endif
import Foundation

extension CgroupController {
    /// Freezes every process of the agent and waits until the kernel reports the group frozen (cgroup v2
    /// `cgroup.events` "frozen 1", v1 `freezer.state` FROZEN): a process in the middle of a system call
    /// finishes it first. False when the group did not report frozen within `timeout` (it stays
    /// requested frozen; the caller decides) or no freezer is available.
    public func freezeAndWait(agent: String, timeout: Duration = .seconds(10)) -> Bool {
        setFrozen(true, agent: agent)
        let deadline = ContinuousClock.now + timeout
        var pause: UInt32 = 200
        while true {
            if isFrozen(agent: agent) { return true }
            if ContinuousClock.now >= deadline { return false }
            usleep(pause)
            pause = min(pause * 2, 20_000)
        }
    }

    /// Whether the kernel reports the agent's group frozen.
    func isFrozen(agent: String) -> Bool {
        if let unifiedRoot, let events = readSmallFile("\(unifiedRoot)/\(agent)/cgroup.events") {
            return events.split(separator: "\n").contains("frozen 1")
        }
        if let freezer = legacyRoots["freezer"], let state = readSmallFile("\(freezer)/\(agent)/freezer.state") {
            return state.hasPrefix("FROZEN")
        }
        return false
    }
}
