#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// This test process's slot among every test process on the machine (worktrees run their suites at the
/// same time): the first of 100 lock files under `/run` that no other live process holds, kept locked
/// until exit. Test servers derive their uid ranges from it, so two test processes never hand the same
/// uids to their servers (the server would refuse an overlapping range held by another live server).
enum TestProcessSlot {
    static let count = 100

    /// Claimed once; the descriptor stays open (and locked) for the life of the process.
    static let index: Int = {
        let directory = "/run/agent-sandbox-test-slots"
        mkdir(directory, 0o700)
        let start = Int(getpid()) % count
        for offset in 0..<count {
            let slot = (start + offset) % count
            let descriptor = open("\(directory)/\(slot).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { continue }
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return slot }
            close(descriptor)
        }
        return start
    }()
}
