#if canImport(Glibc)
import Glibc
#endif
import SandboxKernel

/// The start-up check that this server can give agents disk images: it makes, mounts and removes a
/// 16 MiB one. Project quotas would avoid a loop device per agent, but need a data root mounted with
/// `prjquota` on a kernel built with quota support (CONFIG_QUOTA + QFMT_V2 for ext4, XFS_QUOTA), which
/// the hosts we run on lack; images work on any file system.
public enum DiskImageProbe {
    /// nil when images work, else a sentence saying why not.
    public static func problem(stateDirectory: String) -> String? {
        guard geteuid() == 0 else { return "the server is not root" }
        guard access("/dev/loop-control", W_OK) == 0 else { return "/dev/loop-control is missing (no loop device support)" }
        guard HostCommand.locate("mkfs.ext4") != nil else { return "mkfs.ext4 is not installed (apt-get install e2fsprogs)" }
        let probe = DiskImage(id: ".probe-\(getpid())", dataRoot: stateDirectory, stateDirectory: stateDirectory)
        defer { probe.destroy() }
        do {
            try probe.create(bytes: DiskImage.minimumBytes)
            try probe.mount()
        } catch {
            return error.message
        }
        return nil
    }
}
