#if canImport(Glibc)
import Glibc
#endif

/// `net.ipv4.ip_forward`, which NAT for isolated agents needs. Turned on when the first agent network
/// of any server is created; the value it had is kept in `/run/agent-sandbox/ip_forward.before` by
/// whichever server turned it on, and put back by the last server to stop with agent networks (no other
/// server holds a network slot). Nothing else of the host's configuration is changed.
enum IPForwarding {
    static let control = "/proc/sys/net/ipv4/ip_forward"
    static let saved = "/run/agent-sandbox/ip_forward.before"

    /// Turns forwarding on; true when it is on afterwards.
    @discardableResult
    static func enable() -> Bool {
        let current = readSmallFile(control)?.trimmingWhitespace ?? ""
        if current == "1" { return true }
        if access(saved, F_OK) != 0 {
            let fd = open(saved, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 {
                _ = current.withCString { write(fd, $0, strlen($0)) }
                close(fd)
            }
        }
        return writeControlFile(control, "1")
    }

    /// Puts back the value saved by `enable()` when no server holds a network slot any more.
    static func restoreIfUnused() {
        guard let before = readSmallFile(saved)?.trimmingWhitespace, !before.isEmpty, !slotsInUse() else { return }
        if writeControlFile(control, before) { unlink(saved) }
    }

    /// Whether any process holds the lock of a network slot.
    private static func slotsInUse() -> Bool {
        guard let directory = opendir(NetworkSlot.directory) else { return false }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            guard name.hasSuffix(".lock") else { continue }
            let fd = open("\(NetworkSlot.directory)/\(name)", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            if flock(fd, LOCK_SH | LOCK_NB) != 0 { return true }
        }
        return false
    }
}

fileprivate extension String {
    var trimmingWhitespace: String {
        String(self.drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}
