#if canImport(Glibc)
import Glibc
#endif

/// Reads raw `struct inotify_event`s and tells the coalescer what happened, by workspace path:
/// creations (watching new directories and reporting what they already hold), writes, closes,
/// deletions and moves (`IN_MOVED_FROM` / `IN_MOVED_TO` paired by cookie within one read; a move out
/// of the watched tree is a deletion, a move into it a creation).
struct EventTranslator {
    enum Outcome { case more, rootGone }

    let recursive: Bool

    mutating func apply(_ bytes: UnsafeRawBufferPointer, tree: InotifyTree, into coalescer: inout EventCoalescer) -> Outcome {
        var offset = 0
        var movesOut: [(cookie: UInt32, path: String, isDirectory: Bool)] = []
        var outcome = Outcome.more
        while offset + 16 <= bytes.count {
            let wd = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let cookie = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let nameBytes = UnsafeRawBufferPointer(rebasing: bytes[(offset + 16)..<min(bytes.count, offset + 16 + length)])
            offset += 16 + length
            let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)

            if mask & Inotify.overflow != 0 {
                coalescer.lost = true
                continue
            }
            let isBase = tree.isBase(wd)
            if mask & (Inotify.deleteSelf | Inotify.moveSelf) != 0 || mask & Inotify.ignored != 0 {
                if isBase { outcome = .rootGone }
                if mask & Inotify.ignored != 0 { tree.forget(wd) }
                continue
            }
            guard !name.isEmpty, let directory = tree.path(of: wd) else { continue }
            let path = InotifyTree.join(directory, name)
            let isDirectory = mask & Inotify.isDirectory != 0
            if mask & Inotify.create != 0 {
                coalescer.created(path, isDirectory: isDirectory)
                if isDirectory, recursive { watchNew(path, tree: tree, into: &coalescer) }
            }
            if mask & (Inotify.modify | Inotify.attrib) != 0 { coalescer.written(path, isDirectory: isDirectory) }
            if mask & Inotify.closeWrite != 0 { coalescer.closed(path) }
            if mask & Inotify.delete != 0 { coalescer.deleted(path, isDirectory: isDirectory) }
            if mask & Inotify.movedFrom != 0 { movesOut.append((cookie, path, isDirectory)) }
            if mask & Inotify.movedTo != 0 {
                if let index = movesOut.firstIndex(where: { $0.cookie == cookie }) {
                    let from = movesOut.remove(at: index)
                    coalescer.moved(from: from.path, to: path, isDirectory: isDirectory)
                    if isDirectory { tree.rename(from.path, to: path) }
                } else {
                    coalescer.created(path, isDirectory: isDirectory)
                    if isDirectory, recursive { watchNew(path, tree: tree, into: &coalescer) }
                }
            }
        }
        for move in movesOut {
            coalescer.deleted(move.path, isDirectory: move.isDirectory)
            if move.isDirectory { tree.remove(under: move.path) }
        }
        return outcome
    }

    /// Watches a directory that just appeared, and reports what it already holds.
    private func watchNew(_ path: String, tree: InotifyTree, into coalescer: inout EventCoalescer) {
        let directory = tree.openDirectory(path)
        guard directory >= 0 else { return }  // gone again, or replaced by a symlink: nothing to watch
        defer { close(directory) }
        var found: [(String, Bool)] = []
        let complete = tree.add(directory, as: path, recursive: true) { found.append(($0, $1)) }
        for (entry, isDirectory) in found { coalescer.created(entry, isDirectory: isDirectory) }
        if !complete {
            coalescer.problem(WatchEvent(.error, path: path, extra: [
                "error_code": .string(ToolError.Code.watchLimitExceeded.rawValue),
                "message": .string("'\(path)' is not watched: this agent's watch streams already cover as many directories as the server allows. Watch a subdirectory or close other watch streams."),
            ]))
        }
    }
}
