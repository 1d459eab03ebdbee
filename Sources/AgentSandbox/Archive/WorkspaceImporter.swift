#if canImport(Glibc)
import Glibc
#endif
import SandboxKernel

/// Limits on one import, checked while reading (before anything reaches the workspace).
public struct ImportLimits: Sendable {
    /// Total bytes of file content after decompression.
    public var maxBytes: Int64
    /// Entries in the archive, skipped ones included.
    public var maxEntries: Int
}

/// Reads an archive entry by entry and writes what is safe into a `StagingTree`.
///
/// Refused (the whole archive, `ArchiveError`): absolute paths and `..` (`.unsafe`), more content or
/// entries than the limits (`.tooLarge`: checked against each entry's declared size before reading it,
/// and against the bytes actually decompressed), unreadable or damaged archives (`.invalid`).
/// Skipped with a reason: device, FIFO and socket nodes, symlinks whose target leaves the workspace,
/// hard links to anything but a regular file earlier in the same archive, paths through a symlink.
/// Neutralised: setuid, setgid and sticky bits are cleared.
struct WorkspaceImporter {
    let limits: ImportLimits

    func run(_ reader: ArchiveReader, into tree: StagingTree) throws(ArchiveError) {
        var total: Int64 = 0
        while let entry = try reader.nextEntry() {
            tree.record { $0.entries += 1 }
            if tree.report.entries > limits.maxEntries {
                throw .tooLarge("it has more than \(limits.maxEntries) entries (the server's limit).")
            }
            guard let raw = entry.path, !raw.isEmpty else {
                tree.record { $0.skip([], "entry without a path") }
                continue
            }
            let path = try ArchivePath.components(raw)
            if path.isEmpty { continue }  // the root itself ("./"): the workspace root keeps its own mode
            if let problem = ArchivePath.lengthProblem(path) {
                tree.record { $0.skip(raw, "its path \(problem)") }
                continue
            }
            var skip: StagingTree.Skip?
            if let target = entry.hardlinkTarget {
                let targetPath: [[UInt8]]
                do throws(ArchiveError) {
                    targetPath = try ArchivePath.components(target)
                } catch {
                    throw .unsafe(path: ArchivePath.display(raw), reason: "is a hard link to '\(ArchivePath.display(target))', outside the workspace")
                }
                skip = try tree.makeHardLink(path, to: targetPath)
            } else {
                switch entry.fileType {
                case .regular?:
                    skip = try file(entry, path: path, raw: raw, reader: reader, tree: tree, total: &total)
                case .directory?:
                    skip = try tree.makeDirectory(path, mode: permissions(entry, raw: raw, tree: tree), mtime: entry.mtime)
                case .symlink?:
                    let target = entry.symlinkTarget ?? []
                    skip = ArchivePath.symlinkStaysInside(target: target, linkDirectory: Array(path.dropLast()))
                        ? try tree.makeSymlink(path, target: target, mtime: entry.mtime)
                        : StagingTree.Skip(reason: "symlink target '\(ArchivePath.display(target))' leaves the workspace")
                case .fifo?, .socket?, .characterDevice?, .blockDevice?:
                    skip = StagingTree.Skip(reason: "device, FIFO and socket nodes are not imported")
                case nil:
                    skip = StagingTree.Skip(reason: "unknown entry type \(String(entry.rawFileType, radix: 8))")
                }
            }
            if let skip { tree.record { $0.skip(raw, skip.reason) } }
        }
    }

    /// Writes one regular file's data at the offsets the archive gives (sparse files keep their holes).
    private func file(
        _ entry: ArchiveEntryView, path: [[UInt8]], raw: [UInt8], reader: ArchiveReader, tree: StagingTree, total: inout Int64
    ) throws(ArchiveError) -> StagingTree.Skip? {
        let declared = entry.size
        if let declared, declared > limits.maxBytes - total {
            throw .tooLarge("entry '\(ArchivePath.display(raw))' alone would take the content past \(limits.maxBytes) bytes (the server's import limit; the archive declares \(declared) bytes for it).")
        }
        let mode = permissions(entry, raw: raw, tree: tree)
        let mtime = entry.mtime
        let fd: Int32
        switch try tree.createFile(path) {
        case .success(let created): fd = created
        case .failure(let skip): return skip
        }
        var end: Int64 = 0
        do throws(ArchiveError) {
            while let (offset, bytes) = try reader.nextBlock() {
                total += Int64(bytes.count)
                if total > limits.maxBytes {
                    throw ArchiveError.tooLarge("its content decompresses to more than \(limits.maxBytes) bytes (the server's import limit).")
                }
                try Self.write(bytes, at: offset, to: fd, path: raw)
                end = max(end, offset + Int64(bytes.count))
            }
        } catch {
            close(fd)
            throw error
        }
        try tree.finishFile(fd, size: max(declared ?? end, end), mode: mode, mtime: mtime)
        tree.record {
            $0.files += 1
            $0.bytes += Int64(max(declared ?? end, end))
        }
        return nil
    }

    /// The entry's permission bits with setuid, setgid and sticky cleared (and counted).
    private func permissions(_ entry: ArchiveEntryView, raw: [UInt8], tree: StagingTree) -> UInt32 {
        let mode = entry.permissions
        if mode & 0o7000 != 0 { tree.record { $0.specialBitsCleared += 1 } }
        return mode & 0o777
    }

    private static func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64, to fd: Int32, path: [UInt8]) throws(ArchiveError) {
        let failure = transferFully(bytes) { rest, done in pwrite(fd, rest.baseAddress, rest.count, off_t(offset) + off_t(done)) }
        if failure != 0 { throw .io(operation: "write", path: ArchivePath.display(path), errno: failure) }
    }
}
