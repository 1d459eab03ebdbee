#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// Writes a workspace into an archive: directories, regular files, symlinks (as links, never
/// followed), with their permission bits, owners and mtimes; paths relative to the workspace root.
///
/// It walks with descriptors from the root down (`openat(O_NOFOLLOW)` at every step), so a symlink or
/// a rename planted mid-walk can neither lead it outside the workspace nor crash it: an entry that
/// vanishes is skipped, a file that shrinks is padded with zeros to the size already announced, a file
/// that grows is cut there. FIFOs, sockets, devices and other mounts are left out. Synchronous:
/// it runs on the export's producer thread.
struct WorkspaceExporter {
    let writer: ArchiveWriter
    /// Deeper directories are left out (each level holds one descriptor open).
    static let maxDepth = 256
    private static let readSize = 256 << 10

    /// Walks the tree below `rootFD` (a directory descriptor the caller owns) into the writer and closes it.
    func run(rootFD: Int32) throws(ArchiveError) {
        var info = stat()
        guard fstat(rootFD, &info) == 0 else { throw .io(operation: "fstat", path: ".", errno: errno) }
        let entry = try ArchiveEntryBuilder()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.readSize, alignment: 16)
        defer { buffer.deallocate() }
        var walk = Walk(writer: writer, entry: entry, buffer: buffer, device: info.st_dev)
        try walk.directory(rootFD, prefix: [], depth: 0)
        try writer.close()
    }
}

/// The state of one export walk.
private struct Walk {
    let writer: ArchiveWriter
    let entry: ArchiveEntryBuilder
    let buffer: UnsafeMutableRawBufferPointer
    let device: dev_t

    /// Emits every entry of the directory `fd` (its path relative to the root is `prefix`), recursively.
    mutating func directory(_ fd: Int32, prefix: [UInt8], depth: Int) throws(ArchiveError) {
        for name in DirectoryNames.read(fd) {
            var info = stat()
            guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0, info.st_dev == device else { continue }
            let path = prefix + DirectoryNames.bytes(name)
            switch FileType(mode: info.st_mode) {
            case .directory?:
                guard depth < WorkspaceExporter.maxDepth else { continue }
                let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else { continue }
                defer { close(child) }
                var current = stat()
                guard fstat(child, &current) == 0 else { continue }
                try header(path + [0x2F], info: current, type: .directory)
                try directory(child, prefix: path + [0x2F], depth: depth + 1)
            case .regular?:
                try file(in: fd, name: name, path: path)
            case .symlink?:
                var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let count = readlinkat(fd, name, &target, Int(PATH_MAX))
                guard count > 0 else { continue }
                target[count] = 0
                try header(path, info: info, type: .symlink) { entry in entry.set(symlinkTarget: target) }
            default:
                continue  // FIFOs, sockets and devices have no content to archive.
            }
        }
    }

    /// Emits one regular file: the header with the size seen at open, then exactly that many bytes.
    private func file(in directory: Int32, name: [CChar], path: [UInt8]) throws(ArchiveError) {
        let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, FileType(mode: info.st_mode) == .regular else { return }
        try header(path, info: info, type: .regular) { entry in entry.set(size: Int64(info.st_size)) }
        var remaining = Int(info.st_size)
        while remaining > 0 {
            var count = read(fd, buffer.baseAddress, min(remaining, buffer.count))
            if count < 0, errno == EINTR { continue }
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
