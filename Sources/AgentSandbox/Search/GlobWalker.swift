#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation

/// Walks a directory tree beneath an open descriptor and collects the non-directory entries a
/// `GlobPattern` matches, newest modification first.
///
/// Safe to run as root on an agent's tree: every directory is opened with `openat2(parent, name,
/// O_NOFOLLOW | O_DIRECTORY, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` relative to its already-open parent, so a symlink (even one swapped in
/// mid-walk) is never followed and the walk cannot leave the starting directory. Nothing is read but
/// names and modification times. Directories no pattern alternative can still match are not opened;
/// `.git` directories are skipped. No per-entry allocation except for matches.
public struct GlobWalker: Sendable {
    public struct Result: Sendable {
        /// Matching paths (prefixed), newest first, ties by path; at most `limit` of them.
        public var paths: [String]
        public var totalFound: Int
        public var truncated: Bool { totalFound > paths.count }
        /// The walk stopped at the deadline; the result is partial.
        public var timedOut = false
    }

    public let pattern: GlobPattern
    /// Directories deeper than this are not entered.
    public var maxDepth = 256
    /// Directory names never entered.
    public var skippedDirectories: [[UInt8]] = [Array(".git".utf8)]

    public init(pattern: GlobPattern) { self.pattern = pattern }

    private struct Frame {
        let directory: OpaquePointer
        let pathLength: Int
        let states: [UInt32]
    }

    private struct Found {
        let path: String
        let seconds: Int
        let nanoseconds: Int
    }

    /// Walks `directoryFD` (opened `O_RDONLY | O_DIRECTORY`; the walker takes ownership) and returns
    /// up to `limit` matches, each prefixed with `prefix` (e.g. `"src/"`).
    public func walk(directoryFD: Int32, prefix: String, limit: Int, deadline: Date) -> Result {
        guard let root = fdopendir(directoryFD) else {
            close(directoryFD)
            return Result(paths: [], totalFound: 0)
        }
        let alternatives = pattern.alternatives
        var path = Array(prefix.utf8)
        var stack = [Frame(directory: root, pathLength: path.count, states: closure(alternatives.indices.map { encode($0, 0) }))]
        var found: [Found] = []
        var next: [UInt32] = []
        var visited = 0, timedOut = false
        let nameOffset = MemoryLayout<dirent>.offset(of: \.d_name)!

        while let top = stack.last {
            guard let entry = readdir(top.directory) else {
                closedir(top.directory)
                stack.removeLast()
                continue
            }
            visited += 1
            if visited & 4095 == 0, Date() > deadline { timedOut = true; break }
            let namePointer = UnsafeRawPointer(entry).advanced(by: nameOffset).assumingMemoryBound(to: UInt8.self)
            let name = UnsafeBufferPointer(start: namePointer, count: strlen(UnsafeRawPointer(namePointer).assumingMemoryBound(to: CChar.self)))
            if name[0] == UInt8(ascii: "."), name.count == 1 || (name.count == 2 && name[1] == UInt8(ascii: ".")) { continue }

            next.removeAll(keepingCapacity: true)
            var terminal = false
            for state in top.states {
                let (alternative, index) = decode(state)
                let segments = alternatives[alternative]
                let advanced: UInt32
                switch segments[index] {
                case .globstar: advanced = state
                case let segment where segment.matches(name): advanced = encode(alternative, index + 1)
                default: continue
                }
                addWithClosure(advanced, to: &next, terminal: &terminal)
            }
            if next.isEmpty { continue }

            let fd = dirfd(top.directory)
            var type = entry.pointee.d_type
            if type == 0 /* DT_UNKNOWN */ {
                var info = stat()
                guard fstatat(fd, namePointer, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                type = (info.st_mode & S_IFMT) == S_IFDIR ? 4 : 8
            }
            if type == 4 /* DT_DIR */ {
                let live = next.filter { decode($0).1 < alternatives[decode($0).0].count }
                guard !live.isEmpty, stack.count < maxDepth, !skippedDirectories.contains(where: { name.elementsEqual($0) }) else { continue }
                let child = csandbox_open_beneath(fd, UnsafeRawPointer(namePointer).assumingMemoryBound(to: CChar.self), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, 1)
                guard child >= 0 else { continue }
                guard let handle = fdopendir(child) else { close(child); continue }
                path.removeSubrange(top.pathLength...)
                path.append(contentsOf: name)
                path.append(UInt8(ascii: "/"))
                stack.append(Frame(directory: handle, pathLength: path.count, states: live))
            } else if terminal {
                var info = stat()
                guard fstatat(fd, namePointer, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                path.removeSubrange(top.pathLength...)
                path.append(contentsOf: name)
                found.append(Found(path: String(decoding: path, as: UTF8.self), seconds: info.st_mtim.tv_sec, nanoseconds: info.st_mtim.tv_nsec))
            }
        }
        for frame in stack { closedir(frame.directory) }

        found.sort { a, b in
            if a.seconds != b.seconds { return a.seconds > b.seconds }
            if a.nanoseconds != b.nanoseconds { return a.nanoseconds > b.nanoseconds }
            return a.path.utf8.lexicographicallyPrecedes(b.path.utf8)
        }
        return Result(paths: found.prefix(limit).map(\.path), totalFound: found.count, timedOut: timedOut)
    }

    // MARK: States: (alternative, segment index) packed in a UInt32.

    @inline(__always) private func encode(_ alternative: Int, _ index: Int) -> UInt32 { UInt32(alternative) << 16 | UInt32(index) }
    @inline(__always) private func decode(_ state: UInt32) -> (Int, Int) { (Int(state >> 16), Int(state & 0xFFFF)) }

    /// Adds `state` and, while it sits on a `**`, the state after it (zero directories).
    /// Sets `terminal` when a state reaches the end of its alternative.
    private func addWithClosure(_ state: UInt32, to states: inout [UInt32], terminal: inout Bool) {
        var current = state
        while true {
            let (alternative, index) = decode(current)
            let segments = pattern.alternatives[alternative]
            if index == segments.count { terminal = true }
            if !states.contains(current) { states.append(current) }
            guard index < segments.count, case .globstar = segments[index] else { return }
            current = encode(alternative, index + 1)
        }
    }

    private func closure(_ states: [UInt32]) -> [UInt32] {
        var result: [UInt32] = []
        var terminal = false
        for state in states { addWithClosure(state, to: &result, terminal: &terminal) }
        return result.filter { decode($0).1 < pattern.alternatives[decode($0).0].count }
    }
}
