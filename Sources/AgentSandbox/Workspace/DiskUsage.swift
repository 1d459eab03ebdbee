#if canImport(Glibc)
import Glibc
#endif

/// Bytes allocated on disk under a directory (like `du -s`), without following symlinks.
enum DiskUsage {
    static func bytes(under path: String) -> Int64 {
        var total: Int64 = 0
        var stack = [path]
        while let directory = stack.popLast() {
            guard let handle = opendir(directory) else { continue }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafePointer(to: entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
                if name == "." || name == ".." { continue }
                let child = directory + "/" + name
                var info = stat()
                guard lstat(child, &info) == 0 else { continue }
                total += Int64(info.st_blocks) * 512
                if (info.st_mode & S_IFMT) == S_IFDIR { stack.append(child) }
            }
        }
        return total
    }
}
