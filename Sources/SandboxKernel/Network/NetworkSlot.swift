#if canImport(Glibc)
import Glibc
#endif

/// One agent's claim on a /31 of the address pool, and the names that go with it: host interface
/// `asv<N>`, namespace file `/run/agent-sandbox/netns/asv<N>`.
///
/// Claims are shared by every server on the host (two test servers, or a server and its successor): a
/// slot is taken by holding an exclusive `flock` on `asv<N>.lock`, which the kernel drops however the
/// server ends. A slot whose lock is free but whose file still names an agent was left by a server that
/// crashed: its interface, namespace and set element are removed before the slot is reused. Lock files
/// are never unlinked (unlinking a lock file races with a process that opened it just before).
final class NetworkSlot: Sendable {
    static let directory = "/run/agent-sandbox/netns"

    let index: Int
    private let lockFD: Int32

    private init(index: Int, lockFD: Int32) {
        self.index = index
        self.lockFD = lockFD
    }

    /// The host end of the veth pair (≤ 15 bytes: `asv32767`).
    var interface: String { "asv\(index)" }
    /// The bind-mounted namespace file that keeps the namespace alive and that launches join.
    var namespacePath: String { "\(Self.directory)/asv\(index)" }

    /// The host (gateway) and agent ends of this slot's /31 in `pool`.
    func addresses(in pool: IPv4Network) -> (host: UInt32, agent: UInt32) {
        let host = pool.address + UInt32(index) * 2
        return (host, host + 1)
    }

    /// Claims the first free slot of `capacity`, starting the search at `hint`; records `agent` and
    /// `table` in its file. `cleanStale` undoes what a crashed owner left (its file's text is passed).
    static func claim(capacity: Int, hint: Int, agent: String, table: String, cleanStale: (NetworkSlot, String) -> Void) throws(NetworkCommand.Failure) -> NetworkSlot {
        if mkdir(directory, 0o700) != 0, errno != EEXIST {
            throw NetworkCommand.Failure(description: "cannot create \(directory): \(String(cString: strerror(errno)))")
        }
        for step in 0..<capacity {
            let index = (hint + step) % capacity
            let path = "\(directory)/asv\(index).lock"
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { continue }
            if (try? syscallRetrying("flock", path) { flock(fd, LOCK_EX | LOCK_NB) }) == nil {
                close(fd)
                continue
            }
            let slot = NetworkSlot(index: index, lockFD: fd)
            let previous = slot.readRecord()
            if !previous.isEmpty { cleanStale(slot, previous) }
            slot.writeRecord("agent=\(agent) table=\(table) pid=\(getpid())\n")
            return slot
        }
        throw NetworkCommand.Failure(description: "every one of the \(capacity) network slots of the pool is in use; delete idle agents or give --network-pool a larger range")
    }

    /// Cleans every slot left by a server that ended without removing its networks (SIGKILL, a crash):
    /// its lock is free but its record still names an agent. Slots held by live servers are skipped.
    /// Returns how many were cleaned. Run at start-up, so leftovers do not wait for their slot's reuse.
    static func sweepStale(cleanStale: (NetworkSlot, String) -> Void) -> Int {
        guard let directory = opendir(directory) else { return 0 }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name.hasPrefix("asv"), name.hasSuffix(".lock") { names.append(name) }
        }
        closedir(directory)
        var cleaned = 0
        for name in names {
            guard let index = Int(name.dropFirst(3).dropLast(5)) else { continue }
            let fd = open("\(Self.directory)/\(name)", O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { continue }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { close(fd); continue }
            let slot = NetworkSlot(index: index, lockFD: fd)
            let record = slot.readRecord()
            if !record.isEmpty {
                cleanStale(slot, record)
                cleaned += 1
            }
            slot.release()
        }
        return cleaned
    }

    /// The value of `key` in a slot record such as `agent=… table=… pid=…`.
    static func field(_ key: String, in record: String) -> String? {
        record.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    /// Empties the record and drops the lock: the slot is free again.
    func release() {
        writeRecord("")
        close(lockFD)
    }

    private func readRecord() -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = buffer.withUnsafeMutableBytes { pread(lockFD, $0.baseAddress, $0.count, 0) }
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
    }

    private func writeRecord(_ text: String) {
        _ = ftruncate(lockFD, 0)
        _ = text.withCString { pwrite(lockFD, $0, strlen($0), 0) }
    }
}
