#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import SandboxKernel

/// Start-up of the share store, and adoption of snapshots written before content addressing.
extension ShareService {
    /// Creates the store's directories, then moves every pre-v7 snapshot (`shares/<uuid>`, named by
    /// its row's `legacy_file`) into the blob tree under its content hash: each file is hashed again and
    /// adopted only when the hash is the one its row recorded; a second file with the same content is
    /// dropped for the blob already there. A file that is missing or does not match stays where it is
    /// and keeps being served from there (logged); nothing is lost.
    public func prepareStore(logger: Logger) async throws {
        let blobs = self.blobs
        try blobs.prepare()
        let legacy = try await store.legacyShares()
        guard !legacy.isEmpty else { return }
        var adopted = 0
        for record in legacy {
            guard let name = record.legacyFile else { continue }
            let source = blobs.legacyPath(name)
            let hash = try? await BlockingWork.run { try Self.hashAndSync(source) }
            if hash == record.sha256 {
                try await BlockingWork.run { try blobs.place(temporary: source, sha256: record.sha256) }
            } else if hash != nil || access(blobs.path(of: record.sha256), F_OK) != 0 {
                // A file that is not what its row says, or gone with no blob to stand in: left as is.
                logger.warning("share \(record.token.prefix(6))…: snapshot \(name) \(hash == nil ? "is missing" : "does not match its recorded SHA-256"); still served from the old location")
                continue
            }
            // (A missing file whose blob exists was adopted by an earlier start that stopped before this row.)
            try await store.markAdopted(token: record.token)
            adopted += 1
        }
        logger.info("share store: \(adopted) of \(legacy.count) snapshots from before content addressing moved into blobs")
    }

    /// The SHA-256 of the file at `path` (lower-case hex), fsynced first so that its rename into the
    /// blob tree cannot outlive its content after a crash.
    static func hashAndSync(_ path: String) throws -> String {
        let fd = try syscallRetrying("open", path) { open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
        defer { close(fd) }
        try syscallRetrying("fsync", path) { fsync(fd) }
        var hasher = SHA256Hasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try syscallRetrying("read", path) { read(fd, buffer.baseAddress, buffer.count) }
            if count == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
        return hasher.finalizeHex()
    }
}
