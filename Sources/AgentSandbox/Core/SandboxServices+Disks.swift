import Logging

extension SandboxServices {
    /// Decides at start-up whether agents get disk images (and so a kernel-enforced cap): only as root
    /// with isolation, when a probe image can be made and mounted. With a default cap the probe runs now
    /// (caps off, with a warning, when it fails); with `--disk-bytes 0` it waits for the first agent that
    /// asks for `limits.disk_bytes` (a server without caps makes no probe image, no loop device).
    static func detectDiskImages(_ configuration: inout ServerConfiguration, logger: Logger) {
        let support = DiskImageSupport(stateDirectory: configuration.stateDirectory.path,
                                       refusal: configuration.allowSharedUID ? "--allow-shared-uid is set" : nil)
        configuration.diskImages = support
        guard configuration.diskBytes > 0 else {
            logger.info("disk caps: off by default (--disk-bytes 0); agents created with limits.disk_bytes still get one")
            return
        }
        if let problem = support.problem {
            logger.warning("disk caps are OFF: \(problem). Agents can fill the data root's disk. Run as root on a host with loop devices and e2fsprogs, or pass --disk-bytes 0 to silence this.")
            configuration.diskBytes = 0
        } else {
            logger.info("disk caps: \(configuration.diskBytes) bytes per agent by default (ext4 image per agent, loop-mounted)")
        }
    }
}
