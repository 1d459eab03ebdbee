#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import SandboxKernel

extension DiskImage {
    /// The image's size in bytes (its file's length).
    public var bytes: Int64? {
        var info = stat()
        return stat(imagePath, &info) == 0 ? Int64(info.st_size) : nil
    }

    /// Grows the mounted file system to `bytes` while the agent keeps running: the file is lengthened,
    /// the loop device told, and `resize2fs` grows ext4 online. false when the kernel refuses online
    /// growth (it needs CAP_SYS_RESOURCE, which some containers drop): then `resizeOffline`.
    public func growOnline(to bytes: Int64) -> Bool {
        guard let device, truncate(imagePath, off_t(bytes)) == 0, csandbox_loop_set_capacity(device) == 0 else { return false }
        return HostCommand.run("resize2fs", [device]) == nil
    }

    /// Resizes the unmounted image to `bytes` (grow or shrink), then mounts it again and checks that it
    /// is. The caller has stopped everything that used it; `busy` (429) when something still holds the
    /// file system — an open file, or a mount namespace elsewhere (`release`) — and then nothing changed.
    public func resizeOffline(to bytes: Int64) throws(ToolError) {
        guard try release() else {
            throw ToolError(.tooManyRequests, "Agent \(id)'s workspace is still in use (an open file or a process); retry the change in a moment.")
        }
        do throws(ToolError) {
            try resizeUnmounted(to: bytes)
        } catch {
            try remount()
            throw error
        }
        try remount()
    }

    private func resizeUnmounted(to bytes: Int64) throws(ToolError) {
        let current = self.bytes ?? 0
        if bytes > current, truncate(imagePath, off_t(bytes)) != 0 {
            throw ToolError.invalidField("limits.disk_bytes", "is more than the data root's file system can hold in one image (\(String(cString: strerror(errno)))); choose a smaller cap.")
        }
        if let problem = HostCommand.run("e2fsck", ["-f", "-y", imagePath], accepted: [0, 1]) {
            throw ToolError(.internalError, "Cannot check the agent's disk image before resizing it: \(problem).")
        }
        if let problem = HostCommand.run("resize2fs", [imagePath, "\(bytes / 4096 * 4)K"]) {
            if bytes > current { _ = truncate(imagePath, off_t(current)) }
            throw ToolError(.invalidRequest, "Cannot resize the agent's disk to \(bytes) bytes: \(problem). Free space in the workspace first, or choose a larger limits.disk_bytes.")
        }
        if bytes < current, truncate(imagePath, off_t(bytes)) != 0 { throw Self.failure("shrink \(imagePath)", errno) }
    }

    /// Mounts the image again after offline work and checks the workspace is there: a failure is the
    /// caller's error, not a silently unmounted agent.
    private func remount() throws(ToolError) {
        try mount()
        guard isMounted, access(workspace, F_OK) == 0 else {
            throw ToolError(.internalError, "Agent \(id)'s disk image was resized but its workspace is not mounted at \(workspace); the server's log has details.")
        }
    }
}
