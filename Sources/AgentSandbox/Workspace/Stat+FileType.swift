#if canImport(Glibc)
import Glibc
#endif

extension stat {
    /// The file type bits (`S_IFREG`, `S_IFDIR`, …).
    public var fileType: mode_t { st_mode & S_IFMT }
    public var isRegularFile: Bool { fileType == S_IFREG }
    public var isDirectory: Bool { fileType == S_IFDIR }
    public var isSymlink: Bool { fileType == S_IFLNK }
}
