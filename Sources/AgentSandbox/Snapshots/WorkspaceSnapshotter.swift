#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation
import SandboxKernel

/// The synchronous halves of snapshots and forks, on top of the archive code: a snapshot is the
/// workspace exported as tar.zst (`WorkspaceExporter`, the export route's walker) into a blob; a restore
/// is that blob imported with `mode=replace` (`ArchiveImport`: staged, checked, swapped in with one
/// `renameat2(RENAME_EXCHANGE)`); a fork's copy is the export piped straight into an import.
/// Run them on a dedicated thread: they block.
enum WorkspaceSnapshotter {
    /// What was archived: entries (directories, files, symlinks) and the tar's size before compression.
    struct Summary: Sendable {
        var entries: Int64
        var uncompressedBytes: Int64
    }

    /// zstd level 1, compressed by one worker thread per CPU (as `zstd -T0`). Level 1, not zstd's default
    /// 3: compression is nearly all of a snapshot's CPU, and the agent stays frozen until the last byte is
    /// compressed. On source trees level 1 takes about half the CPU of level 3 for a blob ~6% larger (the
    /// medium bench corpus: 160 MB against 151 MB), and on a shared, loaded host the CPU a snapshot needs
    /// is what sets its wall time.
    static let compression = "zstd:compression-level=1,zstd:threads=\(ProcessInfo.processInfo.activeProcessorCount)"

    /// Writes the workspace at `root` into `upload` as tar.zst (the caller commits or aborts it). One
    /// thread walks the tree and builds the tar; zstd's workers compress it meanwhile (libarchive's
    /// `threads` option), so the walk never waits for the compressor as long as a worker is free —
    /// `tar | zstd -T0` in one process, without the pipe's copy. The call returns when the last
    /// compressed byte is in the upload.
    static func write(root: String, into upload: any SnapshotBlobUpload) throws -> Summary {
        do {
            let writer = try ArchiveWriter(format: .tarZst, options: compression) { bytes in upload.write(bytes) }
            try WorkspaceExporter(writer: writer).run(root: root)
            return Summary(entries: Int64(writer.entryCount), uncompressedBytes: writer.uncompressedBytes)
        } catch {
            if let failure = upload.failure { throw failure }
            throw error
        }
    }

    /// Starts exporting `root` as plain tar into a pipe; returns the pipe's read end and the exporter.
    private static func startExport(_ root: String) throws(ArchiveError) -> (Int32, ExportThread) {
        var fds: [Int32] = [-1, -1]
        guard csandbox_pipe_cloexec(&fds) == 0 else { throw .io(operation: "pipe", path: root, errno: errno) }
        _ = fcntl(fds[1], csandbox_F_SETPIPE_SZ, 1 << 20)
        let exporter = ExportThread(root: root, fd: fds[1])
        exporter.start()
        return (fds[0], exporter)
    }

    /// Replaces the workspace at `workspacePath` with the snapshot `download` reads, owned by `owner`.
    static func restore(
        from download: any SnapshotBlobDownload, into workspacePath: String, owner: Identity?, stagingParent: String,
        replaced: @escaping @Sendable () -> Void
    ) throws(ArchiveError) -> ImportReport {
        let job = importJob(into: workspacePath, owner: owner, stagingParent: stagingParent, replaced: replaced)
        let failure = { () -> ArchiveError? in
            download.failure.map { ArchiveError.io(operation: "read", path: "snapshot (\($0.message))", errno: EIO) }
        }
        return try job.run(failure: failure) { _ throws(ArchiveError) in try ArchiveReader { download.next() } }
    }

    /// Copies the workspace at `source` into the (empty) workspace at `target`, owned by `owner`: an
    /// uncompressed tar through a pipe, exporter and importer on two threads (the kernel's pipe buffer
    /// is the only copy in between).
    static func copy(from source: String, into target: String, owner: Identity?, stagingParent: String) throws(ArchiveError) -> ImportReport {
        let (readEnd, exported) = try startExport(source)
        defer {
            close(readEnd)  // unblocks an exporter still writing (EPIPE) when the import stopped early
            exported.wait()
        }
        let job = importJob(into: target, owner: owner, stagingParent: stagingParent, replaced: {})
        return try job.run(failure: { exported.failure }) { _ throws(ArchiveError) in try ArchiveReader(seekableFile: readEnd) }
    }

    private static func importJob(into workspacePath: String, owner: Identity?, stagingParent: String, replaced: @escaping @Sendable () -> Void) -> ArchiveImport {
        // The server wrote these archives itself: no bomb limits (the disk cap bounds the workspace).
        ArchiveImport(
            workspacePath: workspacePath, owner: owner, stagingParent: stagingParent,
            limits: ImportLimits(maxBytes: .max, maxEntries: .max), mode: .replace, replaced: replaced)
    }
}
