#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import SandboxKernel

/// inotify's event bits (`<sys/inotify.h>`).
enum Inotify {
    static let modify: UInt32 = 0x2, attrib: UInt32 = 0x4, closeWrite: UInt32 = 0x8
    static let movedFrom: UInt32 = 0x40, movedTo: UInt32 = 0x80, create: UInt32 = 0x100, delete: UInt32 = 0x200
    static let deleteSelf: UInt32 = 0x400, moveSelf: UInt32 = 0x800, overflow: UInt32 = 0x4000, ignored: UInt32 = 0x8000
    static let onlyDirectory: UInt32 = 0x0100_0000, excludeUnlinked: UInt32 = 0x0400_0000, isDirectory: UInt32 = 0x4000_0000
    /// What a watch stream listens for on every directory.
    static let mask = modify | attrib | closeWrite | movedFrom | movedTo | create | delete | deleteSelf | moveSelf | onlyDirectory | excludeUnlinked
}

/// One inotify instance and the directories it watches, each by its path relative to the workspace.
///
/// A directory is only ever watched through a descriptor opened below the workspace root with
/// `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` (or the tree walker's `O_NOFOLLOW` descriptors)
/// and handed to `inotify_add_watch` as `/proc/self/fd/N`: a symlink or a rename planted by the agent
/// cannot make the server watch a directory outside the workspace. Not thread-safe: its watcher's
/// thread owns it.
final class InotifyTree: @unchecked Sendable {
    let fd: Int32
    /// The workspace root (`O_RDONLY | O_DIRECTORY`), for resolving new directories below it.
    let rootFD: Int32
    private(set) var paths: [Int32: String] = [:]
    private let budget: WatchBudget
    /// Deeper directories are not watched (their paths near PATH_MAX).
    static let maxDepth = 256

    /// Opens an inotify instance for the workspace at `root`.
    init(root: String, budget: WatchBudget) throws(ToolError) {
        rootFD = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard rootFD >= 0 else { throw ToolError(.agentNotFound, "The agent's workspace is gone.") }
        fd = inotify_init1(Int32(O_NONBLOCK | O_CLOEXEC))
        guard fd >= 0 else {
            let code = errno
            close(rootFD)
            throw ToolError(.serverBusy, "The server cannot open another file watch (\(String(cString: strerror(code)))); close other watch streams or retry later.")
        }
        self.budget = budget
    }

    deinit {
        budget.release(paths.count)
        close(fd)
        close(rootFD)
    }

    /// Opens the directory at `relative` (below the root, no symlinks); -1 with errno when it cannot.
    func openDirectory(_ relative: String) -> Int32 {
        relative.isEmpty ? dup(rootFD) : csandbox_open_beneath(rootFD, relative, O_RDONLY | O_DIRECTORY, 0, 1)
    }

    /// Watches the directory `directoryFD` (named `relative`) and, when `recursive`, every directory
    /// below it. `found` receives each entry below it (a new directory's content, created before its
    /// watch existed). Returns false when the budget ran out (the rest is not watched).
    func add(_ directoryFD: Int32, as relative: String, recursive: Bool, found: ((String, Bool) -> Void)? = nil) -> Bool {
        guard watch(directoryFD, as: relative) else { return false }
        guard recursive, let walk = try? TreeWalk(directory: directoryFD) else { return true }
        var complete = true
        while let event = try? walk.next() {
            guard event == .entry else { continue }
            let path = Self.join(relative, String(decoding: walk.path, as: UTF8.self))
            let isDirectory = walk.type == .directory
            found?(path, isDirectory)
            guard isDirectory, walk.depth < Self.maxDepth, complete else { continue }
            let entered = walk.enter()
            if entered >= 0, !watch(entered, as: path) { complete = false }
        }
        return complete
    }

    /// The watch of the directory the stream was opened on (its first watch).
    private(set) var baseWatch: Int32?

    func isBase(_ wd: Int32) -> Bool { wd == baseWatch }

    /// The path of a watch (nil: not ours, or already forgotten).
    func path(of wd: Int32) -> String? { paths[wd] }

    /// A directory moved inside the watched tree: its watches (and those below it) get the new path.
    func rename(_ from: String, to: String) {
        for (wd, path) in paths where path == from || path.hasPrefix(from + "/") {
            paths[wd] = to + path.dropFirst(from.count)
        }
    }

    /// A directory left the watched tree: stops watching it and everything below it.
    func remove(under prefix: String) {
        for (wd, path) in paths where path == prefix || path.hasPrefix(prefix + "/") {
            inotify_rm_watch(fd, wd)
            forget(wd)
        }
    }

    /// The kernel dropped the watch (`IN_IGNORED`: its directory is gone).
    func forget(_ wd: Int32) {
        if paths.removeValue(forKey: wd) != nil { budget.release() }
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.isEmpty ? name : directory + "/" + name
    }

    private func watch(_ directoryFD: Int32, as relative: String) -> Bool {
        guard budget.take() else { return false }
        let wd = inotify_add_watch(fd, "/proc/self/fd/\(directoryFD)", Inotify.mask)
        guard wd >= 0 else {
            budget.release()
            return errno != ENOSPC  // ENOSPC: the system-wide max_user_watches; other failures: the directory went
        }
        if paths.updateValue(relative, forKey: wd) != nil { budget.release() }  // already watched: one watch
        if baseWatch == nil { baseWatch = wd }
        return true
    }
}
