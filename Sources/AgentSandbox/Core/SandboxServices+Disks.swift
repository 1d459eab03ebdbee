import Logging

extension SandboxServices {
    /// Decides at start-up whether agents get disk images (and so a kernel-enforced cap): only as root
    /// with isolation, when a probe image can be made and mounted. Otherwise caps are off, with a warning.
    static func detectDiskImages(_ configuration: inout ServerConfiguration, logger: Logger) {
        let problem = configuration.allowSharedUID ? "--allow-shared-uid is set" : DiskImageProbe.problem(stateDirectory: configuration.stateDirectory.path)
        configuration.diskImages = problem == nil
        if let problem {
            if configuration.diskBytes > 0 {
                logger.warning("disk caps are OFF: \(problem). Agents can fill the data root's disk. Run as root on a host with loop devices and e2fsprogs, or pass --disk-bytes 0 to silence this.")
            }
            configuration.diskBytes = 0
        } else if configuration.diskBytes > 0 {
            logger.info("disk caps: \(configuration.diskBytes) bytes per agent by default (ext4 image per agent, loop-mounted)")
        } else {
            logger.info("disk caps: off by default (--disk-bytes 0); agents created with limits.disk_bytes still get one")
        }
    }
}
