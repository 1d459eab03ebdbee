#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Runs one of the host's file-system tools (`mkfs.ext4`, `e2fsck`, `resize2fs`, `cp`) to its end,
/// with a fixed environment. Blocking: call it on `BlockingWork`.
enum HostCommand {
    static let searchPath = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]

    /// The tool's absolute path, or nil when it is not installed.
    static func locate(_ name: String) -> String? {
        searchPath.map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }

    /// nil on success (an exit status in `accepted`), else a sentence with the tool's first line of stderr.
    static func run(_ name: String, _ arguments: [String], accepted: Set<Int32> = [0]) -> String? {
        guard let executable = locate(name) else { return "\(name) is not installed (apt-get install e2fsprogs coreutils)" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ["PATH": searchPath.joined(separator: ":"), "LANG": "C"]
        let stderr = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            return "cannot run \(executable): \(error)"
        }
        let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard accepted.contains(process.terminationStatus) else {
            let detail = message.split(separator: "\n").first { !$0.hasPrefix(name) }.map(String.init) ?? "exit status \(process.terminationStatus)"
            return "\(name): \(detail)"
        }
        return nil
    }
}
