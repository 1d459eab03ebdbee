#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The cgroups one process tree runs in: joined by the exec helper, killed and removed at the end.
public struct CallGroup: Sendable {
    /// Directories whose `cgroup.procs` the child joins before dropping privileges.
    public let joinPaths: [String]
    /// The per-call leaf that holds exactly this call's processes.
    public let leaf: String?
    /// Whether the leaf has `cgroup.kill` (v2, kernel ≥ 5.14).
    public let killable: Bool

    /// SIGKILLs every process in the call's leaf and waits (briefly) until it is empty.
    public func kill() {
        if let leaf { Self.killTree(leaf, killable: killable) }
    }

    /// Kills what is left and removes the leaf.
    public func remove() {
        guard let leaf else { return }
        Self.killTree(leaf, killable: killable)
        Self.removeTree(leaf)
    }

    static func populated(_ path: String) -> Bool {
        // Line by line in the standard library: `String.contains` with a string argument is Foundation's
        // NSString search, which showed in the profile of every call (this runs twice per call).
        if let events = readSmallFile("\(path)/cgroup.events") { return events.split(separator: "\n").contains { $0 == "populated 1" } }
        return !pids(below: path).isEmpty
    }

    /// Kills everything below `path`: `cgroup.kill` on v2, otherwise SIGKILL to each listed pid until empty.
    /// `killable`: whether `path` has `cgroup.kill` when the caller knows (nil: look).
    static func killTree(_ path: String, killable: Bool? = nil) {
        let deadline = Date().addingTimeInterval(5)
        if killable ?? FileManager.default.fileExists(atPath: "\(path)/cgroup.kill") {
            writeControlFile("\(path)/cgroup.kill", "1")
        }
        while populated(path), Date() < deadline {
            for pid in pids(below: path) { Glibc.kill(pid, SIGKILL) }
            usleep(1000)
        }
    }

    /// Removes `path` and its child groups, deepest first (groups must be empty).
    static func removeTree(_ path: String) {
        for child in children(path) { removeTree("\(path)/\(child)") }
        for _ in 0..<200 {
            if rmdir(path) == 0 || errno == ENOENT { return }
            if errno != EBUSY { return }
            usleep(5000)
        }
    }

    static func pids(below path: String) -> [pid_t] {
        var result = (readSmallFile("\(path)/cgroup.procs") ?? "").split(separator: "\n").compactMap { pid_t($0) }
        for child in children(path) { result += pids(below: "\(path)/\(child)") }
        return result
    }

    private static func children(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let name = withUnsafePointer(to: entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
