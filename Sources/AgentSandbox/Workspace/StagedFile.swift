#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import SandboxKernel

/// A new version of a file, fully written and fsynced next to its target, waiting to replace it.
///
/// Replacing happens in two steps so several files can change together (multi_edit):
/// `stage` every file first (nothing visible changes), then `commit` them all — each `renameat` is
/// atomic, so a file is always either its old or its new full content, even if the server is killed.
/// `discard` removes a staged file that will not be committed.
///
/// ```swift
/// let target = try paths.writeTarget("a.txt", createDirectories: true, owner: id, display: "a.txt")
/// let staged = try StagedFile.stage(Array("hi\n".utf8), for: target, owner: id, display: "a.txt")
/// try staged.commit()
/// ```
public final class StagedFile: Sendable {
    public let target: WriteTarget
    /// The temporary name in the target's directory.
    private let temporaryName: String
    private let display: String

    private init(target: WriteTarget, temporaryName: String, display: String) {
        self.target = target
        self.temporaryName = temporaryName
        self.display = display
    }

    /// Writes `bytes` to a temporary file in the target's directory: mode kept from the existing file
    /// (0644 for a new one), owned by `owner`, fsynced. The file is anonymous (`O_TMPFILE`) until fully
    /// written, so a crash before `commit` leaves nothing behind in the common case.
    public static func stage(_ bytes: [UInt8], for target: WriteTarget, owner: Identity?, display: String) throws(ToolError) -> StagedFile {
        let directory = target.directory.fd
        let mode = target.existing.map { $0.st_mode & 0o7777 } ?? 0o644
        let name = ".agentsandbox-\(randomSuffix()).tmp"
        var fd = csandbox_open_beneath(directory, ".", csandbox_O_TMPFILE | O_WRONLY, 0o600, 1)
        let anonymous = fd >= 0
        if !anonymous {
            fd = csandbox_open_beneath(directory, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600, 1)
        }
        guard fd >= 0 else { throw PathResolver.error(errno: errno, path: display) }
        defer { close(fd) }
        var failure: Int32 = 0
        if case .failure(let error) = FileIO.writeAll(fd, bytes) { failure = error.code }
        if failure == 0, let owner, fchown(fd, owner.uid, owner.gid) != 0 { failure = errno }
        if failure == 0, fchmod(fd, mode) != 0 { failure = errno }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        if failure == 0, anonymous, linkat(AT_FDCWD, "/proc/self/fd/\(fd)", directory, name, AT_SYMLINK_FOLLOW) != 0 { failure = errno }
        if failure != 0 {
            if !anonymous { unlinkat(directory, name, 0) }
            throw PathResolver.error(errno: failure, path: display)
        }
        return StagedFile(target: target, temporaryName: name, display: display)
    }

    /// Atomically replaces the target with the staged content.
    public func commit() throws(ToolError) {
        let directory = target.directory.fd
        if renameat(directory, temporaryName, directory, target.name) != 0 {
            let failure = errno
            unlinkat(directory, temporaryName, 0)
            throw PathResolver.error(errno: failure, path: display)
        }
    }

    /// Removes the staged file without touching the target.
    public func discard() {
        unlinkat(target.directory.fd, temporaryName, 0)
    }

    /// Stages and commits in one go: the single-file atomic write.
    public static func write(_ bytes: [UInt8], to target: WriteTarget, owner: Identity?, display: String) throws(ToolError) {
        try stage(bytes, for: target, owner: owner, display: display).commit()
    }

    private static func randomSuffix() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
