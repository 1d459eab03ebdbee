#if canImport(Glibc)
import Glibc
#endif
import CSandbox

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

    /// The loop device still bound to the image (`/dev/loopN`), or nil when none is.
    var boundDevice: String? {
        let number = csandbox_loop_find(backingPath)
        return number >= 0 ? "/dev/loop\(number)" : nil
    }

    /// Unmounts the image and waits until its file system is gone everywhere (its loop device unbound),
    /// so it can be checked and resized offline. false when something still holds it — an open file here
    /// (the unmount is refused), or a mount namespace elsewhere that outlives `timeout` seconds: then
    /// it is mounted again on the same device (the same superblock, nothing lost) and the caller retries later.
    public func release(timeout: Double = 10) -> Bool {
        let path = backingPath
        let number = device.flatMap { Int32($0.dropFirst("/dev/loop".count)) } ?? csandbox_loop_find(path)
        guard unmount(force: false) else { return false }
        guard number >= 0 else { return true }
        var waited = 0.0, pause = 0.002
        while csandbox_loop_backs(number, path) == 1 {
            if waited >= timeout {
                try? mount()
                return false
            }
            usleep(UInt32(pause * 1_000_000))
            waited += pause
            pause = min(pause * 2, 0.1)
        }
        return true
    }
}
