#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import SandboxKernel

/// One agent's disk: a sparse ext4 image `<state>/disks/<id>.img` (no reserved blocks, lazily
/// initialised inode tables and journal, so a new 10 GiB image takes a few MB of the host's disk),
/// loop-mounted at `<data root>/<id>/`. The workspace is the directory `workspace/` inside it and the
/// agent's archive imports stage in the root-only `.staging/` beside it: one file system, so atomic
/// writes and archive replace's `RENAME_EXCHANGE` stay inside the image, and an import counts against
/// the cap while it is staged. The kernel enforces the cap: a write past it gets ENOSPC.
///
/// ```
/// <data root>/<id>/            mount point (root, 0711 once mounted)
/// <data root>/<id>/workspace/  the agent's workspace (its uid, 0700)
/// <data root>/<id>/.staging/   archive imports in progress (root, 0700)
/// ```
/// Every operation blocks: call it on `BlockingWork`.
public struct DiskImage: Sendable {
    public let id: String
    public let dataRoot: String
    public let stateDirectory: String

    public init(id: String, dataRoot: String, stateDirectory: String) {
        self.id = id
        self.dataRoot = dataRoot
        self.stateDirectory = stateDirectory
    }

    public var imagePath: String { "\(stateDirectory)/disks/\(id).img" }
    public var mountPoint: String { "\(dataRoot)/\(id)" }
    public var workspace: String { mountPoint + "/workspace" }
    public var staging: String { mountPoint + "/.staging" }
    /// The smallest cap: ext4's own metadata (journal, inode tables) needs room.
    public static let minimumBytes: Int64 = 16 << 20

    /// Whether the agent's disk is an image (its workspace is `workspace`), as opposed to a plain directory.
    public var exists: Bool { access(imagePath, F_OK) == 0 }

    /// Whether a file system is mounted at `mountPoint` (its device differs from the data root's).
    public var isMounted: Bool {
        var here = stat(), parent = stat()
        return stat(mountPoint, &here) == 0 && stat(dataRoot, &parent) == 0 && here.st_dev != parent.st_dev
    }

    /// Creates the image file (sparse, `bytes` long) and its file system; replaces an older one.
    public func create(bytes: Int64) throws(ToolError) {
        try create(at: imagePath, bytes: bytes)
    }

    func create(at path: String, bytes: Int64) throws(ToolError) {
        let directory = stateDirectory + "/disks"
        if mkdir(directory, 0o700) != 0, errno != EEXIST { throw Self.failure("create \(directory)", errno) }
        try Self.make(at: path, bytes: bytes)
    }

    /// Makes a sparse image file of `bytes` at `path` (replacing one there) holding an empty ext4 file
    /// system; mkfs.ext4 fsyncs it before it returns.
    static func make(at path: String, bytes: Int64) throws(ToolError) {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.failure("create \(path)", errno) }
        let sized = ftruncate(fd, off_t(bytes)) == 0
        let code = errno
        close(fd)
        guard sized else {
            unlink(path)
            throw Self.failure("size \(path)", code)
        }
        // 4 KiB blocks at any size (a small image grows well); a 16 MiB journal at most; nothing
        // initialised up front (the kernel is told not to zero inode tables later either: noinit_itable).
        var arguments = ["-q", "-F", "-b", "4096", "-i", "16384", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard"]
        if bytes >= 1 << 30 { arguments += ["-J", "size=16"] }
        if let problem = HostCommand.run("mkfs.ext4", arguments + [path]) {
            unlink(path)
            throw ToolError(.internalError, "Cannot make the agent's disk image: \(problem).")
        }
    }

    /// Mounts the image at `mountPoint` (nothing to do when it already is: a restart after a crash),
    /// and empties `.staging/` (imports a crash interrupted). `fresh`: the image was made (or taken from
    /// the pool) just now, so no loop device can be bound to it — the scan of every loop device for
    /// one (~1000 of them on a busy host: tens of ms) is skipped.
    public func mount(fresh: Bool = false) throws(ToolError) {
        if mkdir(mountPoint, 0o711) != 0, errno != EEXIST { throw Self.failure("create \(mountPoint)", errno) }
        if !isMounted { try Self.attach(imagePath, at: mountPoint, fresh: fresh) }
        _ = chown(mountPoint, 0, 0)
        _ = chmod(mountPoint, 0o711)
        _ = csandbox_remove_tree(staging)
        if mkdir(staging, 0o700) != 0, errno != EEXIST { throw Self.failure("create \(staging)", errno) }
    }

    /// Unmounts the image (the loop device detaches itself). `force`: detach lazily when something still
    /// holds it (the kernel finishes once the last user lets go). false when busy and not forced.
    @discardableResult
    public func unmount(force: Bool) -> Bool {
        guard isMounted else { return true }
        if umount2(mountPoint, 0) == 0 { return true }
        guard force, errno == EBUSY else { return false }
        return umount2(mountPoint, Int32(MNT_DETACH)) == 0
    }

    /// Removes everything of the image: unmounted (lazily if need be), its mount point, its file.
    public func destroy() {
        let backing = backingPath
        unmount(force: true)
        if !isMounted { _ = csandbox_remove_tree(mountPoint) }
        unlink(imagePath)
        Self.forgetLoopDevice(of: backing)
    }

    /// Bytes the file system holds in use and its usable size (ext4 keeps its own metadata apart).
    public func usage() -> (used: Int64, size: Int64)? {
        var info = statvfs()
        guard isMounted, statvfs(mountPoint, &info) == 0 else { return nil }
        let block = Int64(info.f_frsize)
        return (Int64(info.f_blocks - info.f_bfree) * block, Int64(info.f_blocks) * block)
    }

    /// Attaches `image` to a loop device and mounts its file system at `target` (nosuid, nodev; freed
    /// blocks are punched out of the sparse image: discard).
    /// When a loop device is still bound to the image (its file system still live in another mount
    /// namespace) that device is mounted instead: the kernel hands back the live superblock rather than
    /// a second one over the same blocks (see DiskImage+Loop.swift).
    static func attach(_ image: String, at target: String, fresh: Bool = false) throws(ToolError) {
        let flags = UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOATIME)
        let backing = backingPath(of: image)
        let bound = fresh ? -1 : boundLoopDevice(backing)
        if bound >= 0 {
            if Glibc.mount("/dev/loop\(bound)", target, "ext4", flags, "discard,noinit_itable") == 0 { return }
            let code = errno
            // Still bound: never attach a second device to the image.
            if csandbox_loop_backs(bound, backing) == 1 { throw failure("mount \(image) at \(target) (its loop device /dev/loop\(bound) is still in use)", code) }
        }
        var device = [CChar](repeating: 0, count: 64)
        let fd = csandbox_loop_attach(image, &device, device.count)
        guard fd >= 0 else { throw failure("attach \(image) to a loop device", errno) }
        defer { close(fd) }
        remember(loopDevice: device.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }, of: backing)
        guard Glibc.mount(device, target, "ext4", flags, "discard,noinit_itable") == 0 else {
            throw failure("mount \(image) at \(target)", errno)
        }
    }

    /// The loop device the mounted image sits on (`/dev/loopN`, from the mount's device number).
    var device: String? {
        var info = stat()
        guard isMounted, stat(mountPoint, &info) == 0 else { return nil }
        return "/dev/loop\(UInt32(info.st_dev & 0xff) | UInt32(truncatingIfNeeded: (info.st_dev >> 12) & 0xffff_ff00))"
    }

    /// Where an archive import for `agent` stages: inside its image when it has one (same file system as
    /// the workspace, counted against its cap), else the server's `<state>/imports`.
    public static func stagingParent(of agent: Agent, configuration: ServerConfiguration) -> String {
        let image = DiskImage(id: agent.id.rawValue, dataRoot: configuration.dataRoot.path, stateDirectory: configuration.stateDirectory.path)
        return agent.workspacePath == image.workspace ? image.staging : configuration.stateDirectory.appendingPathComponent("imports").path
    }

    static func failure(_ operation: String, _ code: Int32) -> ToolError {
        ToolError(.internalError, "Cannot \(operation): \(String(cString: strerror(code))).")
    }
}
