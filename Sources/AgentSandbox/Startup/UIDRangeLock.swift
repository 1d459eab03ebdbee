#if canImport(Glibc)
import Glibc
#endif
import SandboxKernel

/// One agent uid range per live server on this host: each server holds an exclusive `flock` on
/// `/run/agent-sandbox/uids-FIRST-LAST.lock` for its whole life, and refuses to start when a live
/// server holds a range that overlaps its own (two servers would hand the same uid to different agents).
///
/// The kernel drops the lock when the process ends, however it ends, so a crashed server's file is
/// stale and is removed by the next start. Start-ups are serialised by a short lock on `ranges.lock`.
package enum UIDRangeLock {
    package static let directory = "/run/agent-sandbox"

    /// Takes the lock for `first...last` (kept until the process exits), or explains which range clashes.
    package static func acquire(_ range: ClosedRange<UInt32>, dataRoot: String, directory: String = directory) throws(ConfigurationError) {
        if mkdir(directory, 0o755) != 0, errno != EEXIST {
            throw ConfigurationError("cannot create \(directory) (for the uid range lock): \(String(cString: strerror(errno))). Run agent-sandbox as root.")
        }
        let gate = try open(directory + "/ranges.lock")
        defer { close(gate) }
        _ = try? syscallRetrying("flock", directory) { flock(gate, LOCK_EX) }
        for name in entries(of: directory) {
            guard let held = parse(name), held.overlaps(range) else { continue }
            let path = directory + "/" + name
            let fd = try open(path)
            if (try? syscallRetrying("flock", path) { flock(fd, LOCK_EX | LOCK_NB) }) != nil {
                unlink(path)  // stale: its server is gone
                close(fd)
                continue
            }
            let owner = readSmallFile(path)?.split(separator: "\n").first.map(String.init) ?? "another agent-sandbox"
            close(fd)
            throw ConfigurationError("agent uids \(range.lowerBound)-\(range.upperBound) overlap uids \(held.lowerBound)-\(held.upperBound) of a running server (\(owner)); two servers would give the same uid to different agents. Give this server its own range with --uid-base and --uid-count.")
        }
        let path = "\(directory)/uids-\(range.lowerBound)-\(range.upperBound).lock"
        let fd = try open(path)
        guard (try? syscallRetrying("flock", path) { flock(fd, LOCK_EX | LOCK_NB) }) != nil else {
            close(fd)
            throw ConfigurationError("agent uids \(range.lowerBound)-\(range.upperBound) are held by a running server; give this server its own range with --uid-base and --uid-count.")
        }
        let owner = "pid \(getpid()), data root \(dataRoot)\n"
        _ = ftruncate(fd, 0)
        _ = owner.withCString { pwrite(fd, $0, strlen($0), 0) }
        // The descriptor stays open (close-on-exec) until the process exits: that is the lock.
    }

    /// `uids-FIRST-LAST.lock` → FIRST...LAST.
    package static func parse(_ name: String) -> ClosedRange<UInt32>? {
        guard name.hasPrefix("uids-"), name.hasSuffix(".lock") else { return nil }
        let bounds = name.dropFirst(5).dropLast(5).split(separator: "-")
        guard bounds.count == 2, let first = UInt32(bounds[0]), let last = UInt32(bounds[1]), first <= last else { return nil }
        return first...last
    }

    private static func open(_ path: String) throws(ConfigurationError) -> Int32 {
        do {
            return try syscallRetrying("open", path) { Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644) }
        } catch {
            throw ConfigurationError("cannot open the uid range lock \(path): \(error). Run agent-sandbox as root.")
        }
    }

    private static func entries(of directory: String) -> [String] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            names.append(name)
        }
        return names
    }
}
