#if canImport(Glibc)
import Glibc
#endif
@testable import AgentSandbox
import CSandbox
import Foundation
import Testing
@testable import SandboxKernel

/// The suites that build 100,000-level trees, one after another: run side by side they would measure
/// each other's load rather than the server's (the adversarial suite asserts a bystander's latency).
@Suite(.serialized) enum DeepTreeSuites {}

extension DeepTreeSuites {
    /// The one tree walker (CSandbox `csandbox_walk`, Swift `TreeWalk`) and the removal, chown and
    /// disk-use walks built on it, on real trees: 100,000 levels deep, mode-000 directories, symlinks out.
    @Suite(.enabled(if: isRoot, "needs root (chown, mode-000 directories)"))
    struct TreeWalkTests {
        static let depth = 100_000

        @Test func removesAHundredThousandLevelChainWithinSixteenDescriptors() throws {
            let root = try DeepTree.make(depth: Self.depth)
            let started = Date()
            let status = DeepTree.inChild(root, descriptorLimit: 16) { path in csandbox_remove_tree(path) == 0 ? 0 : errno }
            let seconds = Date().timeIntervalSince(started)
            #expect(status == 0, "removal under a 16-descriptor limit failed: \(String(cString: strerror(status)))")
            #expect(!FileManager.default.fileExists(atPath: root), "the whole chain is gone")
            print("removed \(Self.depth) levels in \(String(format: "%.2f", seconds)) s with RLIMIT_NOFILE 16")
        }

        @Test func chownAndDiskUseCoverAHundredThousandLevelChainWithinSixteenDescriptors() throws {
            let root = try DeepTree.make(depth: Self.depth)
            defer { _ = csandbox_remove_tree(root) }
            let status = DeepTree.inChild(root, descriptorLimit: 16) { path in
                guard csandbox_chown_tree(path, 4242, 4343) == 0 else { return errno }
                return csandbox_disk_usage(path) > 0 ? 0 : max(errno, 1)
            }
            #expect(status == 0, "chown or disk use under a 16-descriptor limit failed: \(String(cString: strerror(status)))")

            // Every entry, the deepest file included, has the new owner (checked by a TreeWalk whose
            // descriptors come from a small reused set).
            let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            defer { close(fd) }
            let walk = try TreeWalk(directory: fd)
            var entries = 0, deepest = 0, wrongOwner = 0
            var descriptors = Set<Int32>()
            while let event = try walk.next() {
                guard event == .entry else { continue }
                entries += 1
                deepest = max(deepest, walk.depth)
                if let info = walk.status(), info.st_uid != 4242 || info.st_gid != 4343 { wrongOwner += 1 }
                if walk.type == .directory { descriptors.insert(walk.enter()) }
            }
            #expect(entries == Self.depth + 1, "every directory and the file at the bottom")
            #expect(deepest == Self.depth)
            #expect(wrongOwner == 0)
            #expect(descriptors.count < 64, "the walk reuses a few descriptors: \(descriptors.count) distinct")
            #expect(!descriptors.contains(-1))

            let du = try ArchiveSupport.shell("du -s -B1 '\(root)' | cut -f1")
            #expect(csandbox_disk_usage(root) == Int64(du.output.trimmingCharacters(in: .whitespacesAndNewlines)), "as du counts")
        }

        @Test func globFindsAFileTwoThousandLevelsDownWithinThirtyTwoDescriptors() throws {
            // Siblings keep the walk queue full, so the worker descends by itself level after level.
            let root = try DeepTree.make(depth: 2_000, siblings: 12)
            defer { _ = csandbox_remove_tree(root) }
            var walker = GlobWalker(pattern: try GlobPattern("**/f"))
            walker.maxDepth = 3_000
            walker.threads = 1  // no helper threads in the forked child
            let status = DeepTree.inChild(root, descriptorLimit: 32) { path in
                let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                guard fd >= 0 else { return errno }
                let result = walker.walk(directoryFD: fd, prefix: "", limit: 10, deadline: .distantFuture)
                return result.paths.count == 1 && result.paths[0].hasSuffix("/d/f") ? 0 : 99
            }
            #expect(status == 0, "glob walks 2,000 levels with at most 32 descriptors (status \(status))")
        }

        @Test func walkReportsEntriesDepthFirstWithPathsAndLeaves() throws {
            let root = try DeepTree.scratch()
            defer { _ = csandbox_remove_tree(root) }
            try ArchiveSupport.shell("cd '\(root)' && mkdir -p a/b && echo x > a/b/f && echo y > top && ln -s a link")
            let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            defer { close(fd) }
            let walk = try TreeWalk(directory: fd)
            var events: [String] = []
            while let event = try walk.next() {
                let path = String(decoding: walk.path, as: UTF8.self)
                if event == .leave {
                    events.append("leave \(path)")
                    continue
                }
                events.append("\(walk.depth) \(path) \(walk.type.map { "\($0)" } ?? "?")")
                if walk.type == .directory { #expect(walk.enter() >= 0) }
            }
            let aSubtree = ["0 a directory", "1 a/b directory", "2 a/b/f regular", "leave a/b", "leave a"]
            let start = try #require(events.firstIndex(of: "0 a directory"))
            #expect(Array(events[start..<(start + aSubtree.count)]) == aSubtree, "\(events)")
            #expect(Set(events) == Set(aSubtree + ["0 top regular", "0 link symlink"]), "the symlink is listed, not entered: \(events)")
        }

        @Test func modeZeroDirectoriesAreRemovedAndSymlinksOutsideAreNeverFollowed() throws {
            let root = try DeepTree.scratch()
            let outside = try DeepTree.scratch()
            defer { _ = csandbox_remove_tree(outside) }
            try ArchiveSupport.shell("""
                cd '\(outside)' && head -c 1048576 /dev/zero > big && chown 0:0 big
                cd '\(root)' && mkdir -p locked/inner && echo x > locked/inner/f && chmod 000 locked/inner locked
                ln -s '\(outside)' out && ln -s '\(outside)/big' big-link
                """)
            #expect(csandbox_disk_usage(root) < 1 << 20, "the 1 MiB file behind the symlink is not counted")
            #expect(csandbox_chown_tree(root, 4242, 4242) == 0)
            #expect(fileStatus(outside + "/big")?.st_uid == 0, "chown does not follow the symlink")
            #expect(fileStatus(root + "/locked/inner/f")?.st_uid == 4242, "chown reaches into mode-000 directories")
            #expect(csandbox_remove_tree(root) == 0, "\(String(cString: strerror(errno)))")
            #expect(!FileManager.default.fileExists(atPath: root))
            #expect(fileStatus(outside + "/big")?.st_size == 1 << 20, "removal does not follow the symlink")
        }

        @Test func walkStopsWhenADirectoryAboveItIsMovedAway() throws {
            let root = try DeepTree.make(depth: 12)
            let elsewhere = try DeepTree.scratch()
            defer {
                _ = csandbox_remove_tree(root)
                _ = csandbox_remove_tree(elsewhere)
            }
            try ArchiveSupport.shell("touch '\(elsewhere)/outside-entry'")
            let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            defer { close(fd) }
            let walk = try TreeWalk(directory: fd)
            var moved = false
            var paths: [String] = []
            var failure: SystemCallError?
            do {
                while let event = try walk.next() {
                    paths.append(String(decoding: walk.path, as: UTF8.self))
                    if event == .entry, walk.type == .directory { _ = walk.enter() }
                    if !moved, walk.depth == 11 {
                        // Far below the ring of open descriptors: level 2 moves out of the tree.
                        #expect(rename(root + "/d/d", elsewhere + "/moved") == 0)
                        moved = true
                    }
                }
            } catch {
                failure = error
            }
            #expect(failure?.errno == ESTALE, "the walk notices that '..' is no longer the directory it came from")
            #expect(!paths.contains { $0.contains("outside-entry") }, "it never lists the new parent")
        }
    }
}

/// Deep trees for the walker tests, on tmpfs when there is one (fast), and forked children with a low
/// descriptor limit.
enum DeepTree {
    static func scratch() throws -> String {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array("\(base)/tree-walk-test.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { throw TestFailure("mkdtemp") }
        return String(cString: made)
    }

    /// A chain `d/d/d/...` `depth` levels deep with a file `f` at the bottom, and `siblings` empty
    /// directories beside each `d`.
    static func make(depth: Int, siblings: Int = 0) throws -> String {
        let root = try scratch()
        var fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        for _ in 0..<depth {
            // Half before and half after `d`, so whatever order readdir lists them in, `d` has siblings ahead of it.
            for sibling in 0..<siblings / 2 { mkdirat(fd, "s\(sibling)", 0o755) }
            guard mkdirat(fd, "d", 0o755) == 0 else { throw TestFailure("mkdirat: \(errno)") }
            for sibling in siblings / 2..<siblings { mkdirat(fd, "s\(sibling)", 0o755) }
            let next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            close(fd)
            fd = next
        }
        let file = openat(fd, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        _ = write(file, "bottom", 6)
        close(file)
        close(fd)
        return root
    }

    /// Runs `body(path)` in a forked child that first closes every inherited descriptor above 2 and
    /// lowers RLIMIT_NOFILE to `descriptorLimit`; returns its exit status (`body`'s result).
    static func inChild(_ path: String, descriptorLimit: rlim_t, _ body: (UnsafePointer<CChar>) -> Int32) -> Int32 {
        let cPath = strdup(path)!
        defer { free(cPath) }
        var inherited = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &inherited)
        let pid = fork()
        if pid == 0 {
            for fd in 3..<Int32(clamping: min(inherited.rlim_cur, 1 << 20)) { close(fd) }
            var limit = rlimit(rlim_cur: descriptorLimit, rlim_max: descriptorLimit)
            guard setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { _exit(120) }
            // Prove the limit bites: every descriptor from 3 up to it can be taken, and then no more.
            var probes: [Int32] = []
            while true {
                let fd = dup(0)
                if fd < 0 { break }
                probes.append(fd)
            }
            guard errno == EMFILE, probes.count == Int(descriptorLimit) - 3 else { _exit(121) }
            for fd in probes { close(fd) }
            _exit(body(cPath))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return (status >> 8) & 0xFF
    }
}
