#if canImport(Glibc)
import Glibc
#endif

/// Lists a directory by descriptor: the entry names as NUL-terminated raw bytes (names need not be
/// UTF-8), sorted bytewise for a stable order, without `.` and `..`. Empty when unreadable.
enum DirectoryNames {
    static func read(_ fd: Int32) -> [[CChar]] {
        let copy = dup(fd)
        guard copy >= 0 else { return [] }
        guard let handle = fdopendir(copy) else {
            close(copy)
            return []
        }
        defer { closedir(handle) }
        rewinddir(handle)
        var names: [[CChar]] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.bindMemory(to: CChar.self).prefix { $0 != 0 }) + [0]
            }
            if name == [0x2E, 0] || name == [0x2E, 0x2E, 0] { continue }
            names.append(name)
        }
        names.sort { $0.lexicographicallyPrecedes($1) { UInt8(bitPattern: $0) < UInt8(bitPattern: $1) } }
        return names
    }

    /// The bytes of a NUL-terminated name, without the NUL.
    static func bytes(_ name: [CChar]) -> [UInt8] { name.dropLast().map { UInt8(bitPattern: $0) } }
}
