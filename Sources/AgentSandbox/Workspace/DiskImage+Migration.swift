#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import SandboxKernel

extension DiskImage {
    /// Moves an agent whose workspace is the plain directory `<data root>/<id>/` (made while caps were
    /// off, or by an older server) into a new image of at least `bytes` (more when its files need
    /// more: nothing is dropped). Crash-safe in steps, each undone or finished by `recoverMigration`:
    /// the image is built as `<id>.img.new` and filled with `cp -a` (owners, modes, times, links,
    /// holes kept) through a private mount; the old directory moves aside to `<id>.old`; the image takes
    /// its final name (from here on it is the agent's disk); it is mounted; the old tree is removed.
    /// Returns the cap the image was given.
    public func migrate(capBytes bytes: Int64) throws(ToolError) -> Int64 {
        let old = mountPoint
        let used = (try? DiskUsage.bytes(under: old)) ?? 0
        let size = max(bytes, ((used + used / 8 + (16 << 20)) >> 20) << 20)
        let building = imagePath + ".new", aside = imagePath + ".old", scratch = imagePath + ".mnt"
        try create(at: building, bytes: size)
        if mkdir(scratch, 0o700) != 0, errno != EEXIST { throw Self.failure("create \(scratch)", errno) }
        do throws(ToolError) {
            try Self.attach(building, at: scratch)
            defer { umount2(scratch, 0) }
            var info = stat()
            guard lstat(old, &info) == 0 else { throw Self.failure("read \(old)", errno) }
            let copy = scratch + "/workspace"
            guard mkdir(copy, 0o700) == 0, chown(copy, info.st_uid, info.st_gid) == 0, chmod(copy, info.st_mode & 0o7777) == 0 else {
                throw Self.failure("prepare \(copy)", errno)
            }
            if let problem = HostCommand.run("cp", ["-a", "--sparse=always", old + "/.", copy + "/"]) {
                throw ToolError(.internalError, "Cannot copy the workspace \(old) into its disk image: \(problem).")
            }
        } catch {
            rmdir(scratch)
            unlink(building)
            throw error
        }
        rmdir(scratch)
        guard rename(old, aside) == 0 else { throw Self.failure("move \(old) aside", errno) }
        guard rename(building, imagePath) == 0 else {
            _ = rename(aside, old)
            throw Self.failure("install \(imagePath)", errno)
        }
        try mount()
        _ = csandbox_remove_tree(aside)
        return size
    }

    /// Finishes or undoes a migration a crash interrupted (start-up, before mounting): an image still
    /// being built is dropped; a workspace moved aside goes back unless the image already took over.
    public func recoverMigration() {
        let aside = imagePath + ".old"
        unlink(imagePath + ".new")
        umount2(imagePath + ".mnt", Int32(MNT_DETACH))
        rmdir(imagePath + ".mnt")
        guard access(aside, F_OK) == 0 else { return }
        if exists {
            _ = csandbox_remove_tree(aside)
        } else if access(mountPoint, F_OK) != 0 {
            _ = rename(aside, mountPoint)
        }
    }
}
