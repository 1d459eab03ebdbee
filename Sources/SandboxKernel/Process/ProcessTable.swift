#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Reads `/proc` to find processes by owner.
public enum ProcessTable {
    /// Pids whose real uid is `uid`.
    public static func pids(ownedBy uid: UInt32) -> [pid_t] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var result: [pid_t] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            guard let pid = pid_t(name) else { continue }
            var info = stat()
            if stat("/proc/\(name)", &info) == 0, info.st_uid == uid { result.append(pid) }
        }
        return result
    }
}
