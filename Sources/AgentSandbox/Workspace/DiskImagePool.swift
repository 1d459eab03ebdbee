#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A few empty disk images of the server's default cap, made ahead, so that creating a capped agent is
/// a rename and a mount rather than an `mkfs.ext4` (its ~1000 writes, two fsyncs and the exec: 30–70 ms
/// on a loaded host, most of a capped create). Agents asking for another cap still get a fresh mkfs.
///
/// The images wait in `<state>/disks/pool/` as `<bytes>.<random>.img`. Each is made whole under a
/// `.building.` name (mkfs, which fsyncs it) and only then renamed to its pool name, so a pool name
/// always holds a complete file system; `take` renames one onto the agent's image path — atomic, so two
/// creates never get the same image — and a background refill (one at a time) tops the pool up again.
/// Start-up (`prepare`) removes half-built images and images of another size (a changed `--disk-bytes`).
public final class DiskImagePool: Sendable {
    public let directory: String
    private let disks: String
    /// The image size the pool holds (the server's default cap).
    public let bytes: Int64
    /// Images kept ready.
    public let target: Int
    private let refilling = Mutex(false)

    public init(stateDirectory: String, bytes: Int64, target: Int = 2) {
        self.disks = stateDirectory + "/disks"
        self.directory = disks + "/pool"
        self.bytes = bytes
        self.target = target
    }

    /// Creates the pool's directory and removes what does not belong in it. Blocks briefly.
    public func prepare() {
        _ = mkdir(disks, 0o700)
        _ = mkdir(directory, 0o700)
        for name in names() where !isReady(name) { unlink(directory + "/" + name) }
    }

    /// Moves a ready image of `size` bytes to `path` (replacing what is there); false when the pool has
    /// none of that size (the caller makes one).
    public func take(bytes size: Int64, into path: String) -> Bool {
        guard size == bytes else { return false }
        for name in names() where isReady(name) {
            if rename(directory + "/" + name, path) == 0 { return true }
            // ENOENT: another create took this one first; try the next.
        }
        return false
    }

    /// Ready images now in the pool.
    public var readyCount: Int { names().filter(isReady).count }

    /// Tops the pool up to `target` on a thread of its own; returns at once (a refill already running
    /// does the work).
    public func refillInBackground() {
        guard refilling.withLock({ running in
            if running { return false }
            running = true
            return true
        }) else { return }
        let thread = Thread { [self] in
            refill()
            refilling.withLock { $0 = false }
        }
        thread.name = "disk-image-pool"
        thread.start()
    }

    /// Makes images until `target` are ready (stops at the first failure: the next create makes its own).
    func refill() {
        while readyCount < target {
            let suffix = UUID().uuidString.lowercased()
            let building = "\(directory)/.building.\(suffix)"
            do {
                try DiskImage.make(at: building, bytes: bytes)
            } catch {
                unlink(building)
                return
            }
            guard rename(building, "\(directory)/\(bytes).\(suffix).img") == 0 else {
                unlink(building)
                return
            }
        }
    }

    private func isReady(_ name: String) -> Bool {
        name.hasPrefix("\(bytes).") && name.hasSuffix(".img")
    }

    private func names() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    }
}
