#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation

extension TestServer {
    /// A fresh data root on tmpfs (`/dev/shm`) when there is one, for tests that build huge trees:
    /// root-owned, its parent 0711 (reachable by agent uids), like `makeDataRoot`.
    static func makeMemoryDataRoot() -> URL {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array("\(base)/agent-sandbox-test.XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        chmod(path, 0o711)
        return URL(fileURLWithPath: path).appendingPathComponent("data")
    }

    /// Sends SIGTERM and waits up to `seconds` for the server to exit: its exit status, or nil when it
    /// did not stop in time (it is then killed).
    func stopGracefully(within seconds: Double = 20) async -> Int32? {
        guard let process, process.isRunning else { return nil }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            stop(signal: SIGKILL)
            return nil
        }
        process.waitUntilExit()
        let status = process.terminationStatus
        stop()
        return status
    }

    /// Kills the server if it still runs and removes its data root's directory (tmpfs is memory).
    func removeDataRoot() {
        stop(signal: SIGKILL)
        Self.unmountAll(under: dataRoot.path)
        _ = csandbox_remove_tree(dataRoot.deletingLastPathComponent().path)
    }

    /// Unmounts every file system mounted below `path` (agents' disk images a killed server left).
    static func unmountAll(under path: String) {
        let table = readProcFile("/proc/self/mountinfo")
        let points = table.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            return fields.count > 4 ? String(fields[4]) : nil
        }
        for point in points where point.hasPrefix(path + "/") { umount2(point, Int32(MNT_DETACH)) }
    }
}

/// A /proc file read to its end. (`String(contentsOfFile:)` trusts the size /proc reports and can stop
/// after the first page: a long mount table loses its last lines, the newest mounts.)
func readProcFile(_ path: String) -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
    defer { try? handle.close() }
    return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
}
