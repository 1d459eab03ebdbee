#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import SandboxKernel

/// The share store's files, content-addressed: one blob per distinct content at
/// `shares/blobs/<first two hex digits>/<sha256>` (root-only, 0700 directories, 0600 files).
///
/// A snapshot is written to `shares/tmp/`, fsynced, and renamed into place, so a blob path only ever
/// names a complete file. A blob is never rewritten: a second share of the same content finds the file
/// and drops its own copy, so the blob's inode is stable for as long as a share refers to it (a
/// download that opened it reads the same bytes to the end). A freed blob is renamed into `shares/trash/`
/// inside the transaction that freed it and unlinked once that transaction has committed.
/// Pre-v7 snapshots (`shares/<uuid>`) sit at the top level until start-up adopts them.
struct ShareBlobStore: Sendable {
    let root: String

    var temporaryDirectory: String { root + "/tmp" }
    var trashDirectory: String { root + "/trash" }

    /// Where the blob of `sha256` lives.
    func path(of sha256: String) -> String { "\(root)/blobs/\(sha256.prefix(2))/\(sha256)" }
    func legacyPath(_ name: String) -> String { root + "/" + name }

    /// A fresh path in `tmp/` for a snapshot being written.
    func newTemporaryPath() -> String { temporaryDirectory + "/" + UUID().uuidString.lowercased() }

    /// Creates the store's directories (0700) if they are missing.
    func prepare() throws {
        for directory in [root, root + "/blobs", temporaryDirectory, trashDirectory] { try Self.makeDirectory(directory) }
    }

    /// Puts the complete, fsynced snapshot at `temporary` in place as the blob of `sha256`, or drops it
    /// when that blob is already there. Runs inside the transaction that records the share.
    func place(temporary: String, sha256: String) throws {
        let target = path(of: sha256)
        var info = stat()
        if lstat(target, &info) == 0, info.st_mode & S_IFMT == S_IFREG {
            // Touched, so that an orphan sweep that listed the store before this share's row commits
            // sees a fresh file and leaves it alone.
            utimensat(AT_FDCWD, target, nil, 0)
            unlink(temporary)
            return
        }
        let directory = String(target[..<target.lastIndex(of: "/")!])
        do {
            try Self.makeDirectory(directory)
            try syscallRetrying("rename", target) { rename(temporary, target) }
            try Self.syncDirectory(directory)
        } catch {
            unlink(temporary)
            throw ToolError(.ioError, "Cannot store the share snapshot: \(error).")
        }
    }

    /// Moves freed files into the trash; records each move in `batch` (never throws: a file that cannot
    /// move stays where it is, and the orphan sweep or the next share of the same content settles it).
    func retire(_ freed: FreedShareFiles, into batch: TrashBatch) {
        let paths = freed.blobs.map(path(of:)) + freed.legacyFiles.map(legacyPath)
        for original in paths {
            let trash = trashDirectory + "/" + UUID().uuidString.lowercased()
            if (try? syscallRetrying("rename", original, { rename(original, trash) })) != nil { batch.add(original, trash) }
        }
    }

    /// Removes files nothing refers to that are older than `cutoff`: blobs without a row (a crash between
    /// rename and commit), leftovers in `tmp/` and `trash/`, and pre-v7 snapshots no share uses.
    /// Returns how many went.
    func sweepOrphans(knownBlobs: Set<String>, legacyFiles: Set<String>, olderThan cutoff: Date) -> Int {
        var removed = 0
        func removeIfOld(_ path: String) {
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT != S_IFDIR, Double(info.st_mtim.tv_sec) < cutoff.timeIntervalSince1970 else { return }
            if unlink(path) == 0 { removed += 1 }
        }
        let manager = FileManager.default
        for name in (try? manager.contentsOfDirectory(atPath: root)) ?? [] where !["blobs", "tmp", "trash"].contains(name) && !legacyFiles.contains(name) {
            removeIfOld(root + "/" + name)
        }
        for directory in [temporaryDirectory, trashDirectory] {
            for name in (try? manager.contentsOfDirectory(atPath: directory)) ?? [] { removeIfOld(directory + "/" + name) }
        }
        for fan in (try? manager.contentsOfDirectory(atPath: root + "/blobs")) ?? [] {
            for name in (try? manager.contentsOfDirectory(atPath: "\(root)/blobs/\(fan)")) ?? [] where !knownBlobs.contains(name) {
                removeIfOld("\(root)/blobs/\(fan)/\(name)")
            }
        }
        return removed
    }

    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o700) != 0, errno != EEXIST {
            throw ToolError(.internalError, "Cannot create the share store directory \(path): \(String(cString: strerror(errno))).")
        }
    }

    /// fsyncs a directory so that a rename into it survives a crash.
    static func syncDirectory(_ path: String) throws {
        let fd = try syscallRetrying("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        try syscallRetrying("fsync", path) { fsync(fd) }
    }
}

/// The files one removal moved into the trash: unlinked once the transaction committed, moved back
/// when it did not.
final class TrashBatch: Sendable {
    private let moves = Mutex<[(original: String, trash: String)]>([])

    func add(_ original: String, _ trash: String) { moves.withLock { $0.append((original, trash)) } }

    /// How many files the batch holds.
    var count: Int { moves.withLock { $0.count } }

    func purge() {
        for move in moves.withLock({ $0 }) { unlink(move.trash) }
    }

    func restore() {
        for move in moves.withLock({ $0 }) { rename(move.trash, move.original) }
    }
}
