#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import SandboxKernel

/// The private directory an import extracts into, written entry by entry without ever following a
/// symlink: parents are opened with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` from the staging
/// root, leaves are created with `O_CREAT | O_EXCL | O_NOFOLLOW` / `mkdirat` / `symlinkat` / `linkat`
/// relative to that parent. An entry whose path passes through a symlink (even one the archive just
/// created inside the tree) is skipped. Everything is owned by `owner` (nil: the server's own uid);
/// permission bits are limited to 0777. Directory modes and mtimes are applied last (`finish`), deepest
/// first, so a read-only directory does not block its own children.
final class StagingTree {
    /// Returned for an entry that is left out (recorded in the report), as opposed to a fatal `ArchiveError`.
    struct Skip: Error { let reason: String }

    let rootFD: Int32
    private let owner: Identity?
    private(set) var report = ImportReport()
    /// What this archive put at each path (hard links may only point at files it created).
    private var kinds: [[UInt8]: FileType] = [:]
    private var directoryMetadata: [[UInt8]: (mode: UInt32, mtime: timespec?)] = [:]
    private var cachedParent: (path: [UInt8], fd: Int32)?

    /// `rootFD`: an `O_PATH | O_DIRECTORY` descriptor of the empty staging directory, owned by the caller.
    init(rootFD: Int32, owner: Identity?) {
        self.rootFD = rootFD
        self.owner = owner
    }

    deinit { if let cachedParent { close(cachedParent.fd) } }

    func record(_ update: (inout ImportReport) -> Void) { update(&report) }

    /// Creates an empty regular file (replacing a non-directory of the same path) and returns its
    /// descriptor for the caller to fill and hand to `finishFile`.
    func createFile(_ path: [[UInt8]]) throws(ArchiveError) -> Result<Int32, Skip> {
        try create(path, kind: .regular) { parent, leaf in
            let fd = openat(parent, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0, let owner { fchown(fd, owner.uid, owner.gid) }
            return fd
        }
    }

    /// Sets a written file's final size, permission bits and mtime, and closes it.
    func finishFile(_ fd: Int32, size: Int64, mode: UInt32, mtime: timespec?) throws(ArchiveError) {
        defer { close(fd) }
        if ftruncate(fd, off_t(size)) != 0 { throw .io(operation: "ftruncate", path: "", errno: errno) }
        fchmod(fd, mode & 0o777)
        var times = Self.times(mtime)
        futimens(fd, &times)
    }

    func makeDirectory(_ path: [[UInt8]], mode: UInt32, mtime: timespec?) throws(ArchiveError) -> Skip? {
        let key = ArchivePath.joined(path)
        if kinds[key] != .directory {
            let result = try create(path, kind: .directory) { parent, leaf in
                mkdirat(parent, leaf, 0o700) == 0 ? chownLeaf(parent, leaf) : -1
            }
            if case .failure(let skip) = result { return skip }
            report.directories += 1
        }
        directoryMetadata[key] = (mode & 0o777, mtime)
        return nil
    }

    func makeSymlink(_ path: [[UInt8]], target: [UInt8], mtime: timespec?) throws(ArchiveError) -> Skip? {
        let result = try create(path, kind: .symlink) { parent, leaf in
            let made = (target + [0]).withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { symlinkat($0.baseAddress!, parent, leaf) }
            }
            guard made == 0 else { return -1 }
            var times = Self.times(mtime)
            utimensat(parent, leaf, &times, AT_SYMLINK_NOFOLLOW)
            return chownLeaf(parent, leaf)
        }
        if case .failure(let skip) = result { return skip }
        report.symlinks += 1
        return nil
    }

    /// A hard link to a regular file this archive created earlier; anything else is skipped.
    func makeHardLink(_ path: [[UInt8]], to target: [[UInt8]]) throws(ArchiveError) -> Skip? {
        guard !target.isEmpty, target != path, kinds[ArchivePath.joined(target)] == .regular else {
            return Skip(reason: "hard link to a file that is not in the archive (or not a regular file)")
        }
        let targetParent = ArchivePath.joined(target.dropLast()) + [0]
        let targetDirectory = targetParent.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { $0.count > 1 ? csandbox_open_beneath(rootFD, $0.baseAddress!, csandbox_O_PATH | O_DIRECTORY, 0, 1) : dup(rootFD) }
        }
        guard targetDirectory >= 0 else { return Skip(reason: "hard link target cannot be reached without following a symlink") }
        defer { close(targetDirectory) }
        let targetLeaf = target.last! + [0]
        let result = try create(path, kind: .regular) { parent, leaf in
            targetLeaf.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { linkat(targetDirectory, $0.baseAddress!, parent, leaf, 0) }
            }
        }
        if case .failure(let skip) = result { return skip }
        report.hardLinks += 1
        return nil
    }

    /// Applies directory modes and mtimes, deepest first.
    func finish() throws(ArchiveError) {
        if let cachedParent { close(cachedParent.fd) }
        cachedParent = nil
        for (path, metadata) in directoryMetadata.sorted(by: { $0.key.count > $1.key.count }) {
            let fd = (path + [0]).withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { csandbox_open_beneath(rootFD, $0.baseAddress!, O_RDONLY | O_DIRECTORY, 0, 1) }
            }
            guard fd >= 0 else { continue }
            fchmod(fd, metadata.mode)
            var times = Self.times(metadata.mtime)
            futimens(fd, &times)
            close(fd)
        }
    }

    // MARK: Internals

    /// Resolves the parent of `path` (creating missing directories), then runs `make(parent, leaf)`;
    /// on EEXIST replaces a non-directory leaf once. Records the new kind of the path.
    private func create(_ path: [[UInt8]], kind: FileType, _ make: (Int32, UnsafePointer<CChar>) -> Int32) throws(ArchiveError) -> Result<Int32, Skip> {
        let parent: Int32
        switch try parentDirectory(Array(path.dropLast())) {
        case .success(let fd): parent = fd
        case .failure(let skip): return .failure(skip)
        }
        let leaf = path.last! + [0]
        return try leaf.withUnsafeBufferPointer { bytes throws(ArchiveError) -> Result<Int32, Skip> in
            let name = UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self)
            var result = make(parent, name)
            if result < 0, errno == EEXIST {
                var info = stat()
                if fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0, FileType(mode: info.st_mode) == .directory {
                    return .failure(Skip(reason: "a directory of the same name came earlier in the archive"))
                }
                unlinkat(parent, name, 0)
                result = make(parent, name)
            }
            if result < 0 { throw .io(operation: "create", path: ArchivePath.display(ArchivePath.joined(path)), errno: errno) }
            kinds[ArchivePath.joined(path)] = kind
            return .success(result)
        }
    }

    /// The directory `components` below the root, created as needed, as a cached `O_PATH` descriptor.
    private func parentDirectory(_ components: [[UInt8]]) throws(ArchiveError) -> Result<Int32, Skip> {
        if components.isEmpty { return .success(rootFD) }
        let key = ArchivePath.joined(components)
        if let cachedParent, cachedParent.path == key { return .success(cachedParent.fd) }
        var current = rootFD
        for index in components.indices {
            let name = components[index] + [0]
            var next = open(beneath: current, name)
            if next < 0, errno == ENOENT {
                let made = name.withUnsafeBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { mkdirat(current, $0.baseAddress!, 0o755) == 0 ? chownLeaf(current, $0.baseAddress!) : -1 }
                }
                if made == 0 {
                    let prefix = ArchivePath.joined(Array(components[...index]))
                    kinds[prefix] = .directory
                    report.directories += 1
                }
                next = open(beneath: current, name)
            }
            let failure = errno
            if current != rootFD { close(current) }
            guard next >= 0 else {
                switch failure {
                case ELOOP: return .failure(Skip(reason: "its path passes through a symlink"))
                case ENOTDIR, EEXIST: return .failure(Skip(reason: "a parent in its path is not a directory"))
                default: throw .io(operation: "open", path: ArchivePath.display(key), errno: failure)
                }
            }
            current = next
        }
        if let cachedParent { close(cachedParent.fd) }
        cachedParent = (key, current)
        return .success(current)
    }

    private func open(beneath directory: Int32, _ name: [UInt8]) -> Int32 {
        name.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { csandbox_open_beneath(directory, $0.baseAddress!, csandbox_O_PATH | O_DIRECTORY, 0, 1) }
        }
    }

    /// chowns `leaf` (not following it) to the owner; 0 on success.
    private func chownLeaf(_ parent: Int32, _ leaf: UnsafePointer<CChar>) -> Int32 {
        guard let owner else { return 0 }
        return fchownat(parent, leaf, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW)
    }

    private static func times(_ mtime: timespec?) -> [timespec] {
        // UTIME_OMIT and UTIME_NOW (<sys/stat.h>; their macros are expressions Swift does not import).
        [timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2), mtime ?? timespec(tv_sec: 0, tv_nsec: (1 << 30) - 1)]
    }
}
