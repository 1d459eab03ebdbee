#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import SandboxKernel

/// Writes a workspace into an archive: directories, regular files, symlinks (as links, never
/// followed), with their permission bits, owners and mtimes; paths relative to the workspace root.
///
/// It walks with the server's `TreeWalk` (descriptors from the root down, `O_NOFOLLOW` at every step,
/// a fixed number of them open at any depth), so a symlink or a rename planted mid-walk can neither
/// lead it outside the workspace nor crash it: an entry that vanishes is skipped, a file that shrinks
/// is padded with zeros to the size already announced, a file that grows is cut there; a directory
/// moved above the walk's position ends the export with an error. Entries come in directory order.
/// FIFOs, sockets, devices and other mounts are left out. Synchronous: it runs on the export's
/// producer thread.
struct WorkspaceExporter {
    let writer: ArchiveWriter
    /// Deeper directories are left out: their paths would pass PATH_MAX, which no importer (ours
    /// included) can extract.
    static let maxDepth = 256
    private static let readSize = 256 << 10

    /// Walks the tree below `rootFD` (a directory descriptor the caller owns) into the writer.
    func run(rootFD: Int32) throws(ArchiveError) {
        var info = stat()
        guard fstat(rootFD, &info) == 0 else { throw .io(operation: "fstat", path: ".", errno: errno) }
        let entry = try ArchiveEntryBuilder()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readSize, alignment: 16)
        defer { buffer.deallocate() }
        let walker: TreeWalk
        do {
            walker = try TreeWalk(directory: rootFD)
        } catch {
            throw .io(operation: "open", path: ".", errno: error.errno)
        }
        let walk = Walk(writer: writer, entry: entry, buffer: buffer, device: info.st_dev)
        try walk.run(walker)
        try writer.close()
    }

    /// Like `run`, for a workspace path: opens it without following a symlink.
    func run(root: String) throws(ArchiveError) {
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "open", path: root, errno: errno) }
        defer { close(fd) }
        try run(rootFD: fd)
    }
}

/// The state of one export walk.
private struct Walk {
    let writer: ArchiveWriter
    let entry: ArchiveEntryBuilder
    let buffer: UnsafeMutableRawBufferPointer
    let device: dev_t

    /// Emits every entry below the walk's directory.
    func run(_ walk: TreeWalk) throws(ArchiveError) {
        while true {
            guard let event = try walk.nextArchiveEvent() else { return }
            guard event == .entry else { continue }
            switch walk.type {
            case .directory?:
                guard walk.depth < WorkspaceExporter.maxDepth, walk.enter() >= 0, let info = walk.status() else { continue }
                try header(walk.path + [0x2F], info: info, type: .directory)
            case .regular?:
                try file(in: walk.directoryFD, name: walk.name, path: walk.path)
            case .symlink?:
                guard let info = walk.status(), info.st_dev == device else { continue }
                var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let count = readlinkat(walk.directoryFD, walk.name, &target, Int(PATH_MAX))
                guard count > 0 else { continue }
                target[count] = 0
                try header(walk.path, info: info, type: .symlink) { entry in entry.set(symlinkTarget: target) }
            default:
                continue  // FIFOs, sockets and devices have no content to archive.
            }
        }
    }

    /// Emits one regular file: the header with the size seen at open, then exactly that many bytes.
    private func file(in directory: Int32, name: UnsafePointer<CChar>, path: [UInt8]) throws(ArchiveError) {
        let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, FileType(mode: info.st_mode) == .regular else { return }
        try header(path, info: info, type: .regular) { entry in entry.set(size: Int64(info.st_size)) }
        var remaining = Int(info.st_size)
        while remaining > 0 {
            var count = retryingEINTR { read(fd, buffer.baseAddress, min(remaining, buffer.count)) }
            if count <= 0 {
                // The file shrank (or became unreadable): pad to the size the header announced.
                count = min(remaining, buffer.count)
                buffer.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: count)
            }
            try writer.write(data: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            remaining -= count
        }
    }

    private func header(_ path: [UInt8], info: stat, type: FileType, extra: (ArchiveEntryBuilder) -> Void = { _ in }) throws(ArchiveError) {
        entry.reset()
        (path + [0]).withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { name in
                entry.set(path: name.baseAddress!, type: type, permissions: info.st_mode, uid: info.st_uid, gid: info.st_gid, mtime: info.st_mtim)
            }
        }
        extra(entry)
        try writer.write(header: entry)
    }
}
