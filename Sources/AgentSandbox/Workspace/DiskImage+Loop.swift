#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Synchronization

/// One image, one superblock. A loop device stays bound to an image while ANY mount of its file system
/// lives, in any mount namespace — and every sandbox being set up (bubblewrap, `unshare -m`, of any
/// agent or any server on the host) holds a copy of every host mount for a moment. So after an unmount
/// here the file system can still be live elsewhere: a second loop device attached to the same image
/// would mount a second superblock over the same blocks, and an offline check or resize under a live
/// one corrupts it (its last unmount writes the old superblock back; the next mount fails). Hence:
/// a mount reuses the loop device still bound to the image (the kernel hands back the live superblock),
/// and offline work waits until the device has let go (`release`).
extension DiskImage {
    /// The image's path as the kernel reports a loop device's backing file (absolute, no symlinks).
    var backingPath: String { Self.backingPath(of: imagePath) }

    static func backingPath(of image: String) -> String {
        guard let resolved = realpath(image, nil) else { return image }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The loop device each image was last attached to by this process (key: its backing path). Only
    /// this server attaches its images, so once it has attached one, the device it remembers is the only
    /// one that can still be bound to it: checking that one device replaces the scan of every loop device
    /// (~1000 on a busy host) on each remount. An image this process has not attached yet (after a
    /// restart) is looked for with the scan, once.
    private static let attached = Mutex<[String: Int32]>([:])

    static func remember(loopDevice: String, of backing: String) {
        guard let number = Int32(loopDevice.dropFirst("/dev/loop".count)) else { return }
        attached.withLock { $0[backing] = number }
    }

    /// Drops what `remember` kept for an image that is gone (the map holds live images only).
    static func forgetLoopDevice(of backing: String) {
        _ = attached.withLock { $0.removeValue(forKey: backing) }
    }

    /// The number N of the loop device `/dev/loopN` still bound to the image at `backing`, or -1.
    static func boundLoopDevice(_ backing: String) -> Int32 {
        if let known = attached.withLock({ $0[backing] }) {
            return csandbox_loop_backs(known, backing) == 1 ? known : -1
        }
        let found = csandbox_loop_find(backing)
        if found >= 0 { attached.withLock { $0[backing] = found } }
        return found
    }

    /// Unmounts the image and waits until its file system is gone everywhere (its loop device unbound),
    /// so it can be checked and resized offline. false when something still holds it — an open file here
    /// (the unmount is refused), or a mount namespace elsewhere that outlives `timeout` seconds: then
    /// it is mounted again on the same device (the same superblock, nothing lost) and the caller retries later.
    /// Throws when the image could not be mounted again after such a wait: the agent would be left without
    /// its workspace, which the caller must report rather than carry on.
    public func release(timeout: Double = 10) throws(ToolError) -> Bool {
        let path = backingPath
        let number = device.flatMap { Int32($0.dropFirst("/dev/loop".count)) } ?? Self.boundLoopDevice(path)
        guard unmount(force: false) else { return false }
        guard number >= 0 else { return true }
        var waited = 0.0, pause = 0.002
        while csandbox_loop_backs(number, path) == 1 {
            if waited >= timeout {
                do throws(ToolError) {
                    try mount()
                } catch {
                    throw ToolError(.internalError, "Agent \(id)'s workspace was unmounted for offline work and could not be mounted again (\(error.message)); restart the server to mount it, or delete and recreate the agent.")
                }
                return false
            }
            usleep(UInt32(pause * 1_000_000))
            waited += pause
            pause = min(pause * 2, 0.1)
        }
        return true
    }
}
