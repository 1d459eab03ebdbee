#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// One walking thread: takes directories from the queue and walks each depth-first, offering
/// subdirectories back to the queue while it is short.
extension GlobWalker {
    /// A directory being read: its descriptor, where its entries are in this level's buffer, its
    /// path's length in the worker's path buffer, and the pattern states live in it.
    ///
    /// Only the `ring` deepest frames keep their descriptor and buffer: a shallower frame is closed
    /// (its read position kept as the `d_off` cookie, its identity as device and inode) and re-opened
    /// through `..` of its child, checked, when the walk climbs back to it. So a worker holds at most
    /// `ring + 1` descriptors and `ring` buffers however deep the tree.
    private struct Frame {
        var fd: Int32
        let depth: Int
        let pathLength: Int
        let states: [UInt32]
        var position = 0
        var end = 0
        var cookie: Int64 = 0
        var device: dev_t = 0
        var inode: ino_t = 0
    }

    /// Bytes read per `getdents64` call (one buffer per open frame).
    private static let bufferSize = 32 << 10
    /// Directory levels per worker that keep their descriptor open.
    private static let ring = 8

    func work(_ queue: WalkQueue) -> WalkOutput {
        var output = WalkOutput()
        guard queue.join() else { return output }
        var buffers: [UnsafeMutableRawPointer] = []
        defer { for buffer in buffers { buffer.deallocate() } }
        var stack: [Frame] = []
        var path: [UInt8] = []
        var next: [UInt32] = []
        var visited = 0
        let alternatives = pattern.alternatives

        walking: while let item = queue.next() {
            path = item.path
            stack.append(Frame(fd: item.fd, depth: item.depth, pathLength: path.count, states: item.states))
            while let level = stack.indices.last {
                let buffer = level % Self.ring
                if stack[level].position >= stack[level].end {
                    if buffer == buffers.count { buffers.append(.allocate(byteCount: Self.bufferSize, alignment: 8)) }
                    let count = csandbox_getdents(stack[level].fd, buffers[buffer], Self.bufferSize)
                    if count <= 0 {
                        let finished = stack.removeLast()
                        if !stack.isEmpty, stack[level - 1].fd < 0, !Self.reopen(&stack[level - 1], from: finished.fd) {
                            // A directory above was moved meanwhile: this subtree's walk ends here.
                            for frame in stack where frame.fd >= 0 { close(frame.fd) }
                            stack.removeAll()
                        }
                        close(finished.fd)
                        continue
                    }
                    stack[level].position = 0
                    stack[level].end = count
                }
                let record = buffers[buffer] + stack[level].position
                stack[level].position += Int(record.loadUnaligned(fromByteOffset: 16, as: UInt16.self))
                stack[level].cookie = record.loadUnaligned(fromByteOffset: 8, as: Int64.self)
                var type = record.load(fromByteOffset: 18, as: UInt8.self)
                let namePointer = (record + 19).assumingMemoryBound(to: UInt8.self)
                let name = UnsafeBufferPointer(start: namePointer, count: strlen(UnsafeRawPointer(namePointer).assumingMemoryBound(to: CChar.self)))
                if name[0] == UInt8(ascii: "."), name.count == 1 || (name.count == 2 && name[1] == UInt8(ascii: ".")) { continue }
                visited += 1
                if visited & 4095 == 0, queue.pastDeadline() { break walking }

                let frame = stack[level]
                let cName = UnsafeRawPointer(namePointer).assumingMemoryBound(to: CChar.self)
                var mode: UInt32 = 0, seconds: Int64 = 0, nanoseconds: UInt32 = 0
                if type != 0 /* DT_UNKNOWN */ && type != 4 /* DT_DIR */ {
                    // A file (a symlink is listed, never followed) matches when a state on its
                    // alternative's last segment matches its name; no state set is built.
                    guard listsFile(name, in: frame.states, alternatives),
                        csandbox_stat_nofollow(frame.fd, cName, &mode, &seconds, &nanoseconds) == 0
                    else { continue }
                    output.add(path[..<frame.pathLength], name, seconds: seconds, nanoseconds: nanoseconds)
                    continue
                }
                next.removeAll(keepingCapacity: true)
                var terminal = false
                for state in frame.states {
                    let (alternative, index) = decode(state)
                    let advanced: UInt32
                    switch alternatives[alternative][index] {
                    case .globstar: advanced = state
                    case let segment where segment.matches(name): advanced = encode(alternative, index + 1)
                    default: continue
                    }
                    addWithClosure(advanced, to: &next, terminal: &terminal)
                }
                if next.isEmpty { continue }
                if type == 0 /* DT_UNKNOWN */ {
                    guard csandbox_stat_nofollow(frame.fd, cName, &mode, &seconds, &nanoseconds) == 0 else { continue }
                    type = (mode & S_IFMT) == S_IFDIR ? 4 : 8
                }
                if type == 4 /* DT_DIR */ {
                    let live = next.filter { decode($0).1 < alternatives[decode($0).0].count }
                    guard !live.isEmpty, frame.depth + 1 < maxDepth, !skippedDirectories.contains(where: { name.elementsEqual($0) }) else { continue }
                    let child = csandbox_open_beneath(frame.fd, cName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, 1)
                    guard child >= 0 else { continue }
                    if queue.wantsWork {
                        queue.push(WalkQueue.Item(fd: child, path: Array(path[..<frame.pathLength]) + name + [UInt8(ascii: "/")], states: live, depth: frame.depth + 1))
                    } else {
                        path.removeSubrange(frame.pathLength...)
                        path.append(contentsOf: name)
                        path.append(UInt8(ascii: "/"))
                        stack.append(Frame(fd: child, depth: frame.depth + 1, pathLength: path.count, states: live))
                        if stack.count > Self.ring { Self.release(&stack[stack.count - 1 - Self.ring]) }
                    }
                } else if terminal {
                    // A DT_UNKNOWN entry, statted above.
                    output.add(path[..<frame.pathLength], name, seconds: seconds, nanoseconds: nanoseconds)
                }
            }
        }
        for frame in stack where frame.fd >= 0 { close(frame.fd) }
        return output
    }

    /// Closes a frame that left the ring, keeping what re-opening it needs.
    private static func release(_ frame: inout Frame) {
        guard frame.fd >= 0 else { return }
        var info = stat()
        if fstat(frame.fd, &info) == 0 { (frame.device, frame.inode) = (info.st_dev, info.st_ino) }
        close(frame.fd)
        frame.fd = -1
        frame.position = 0
        frame.end = 0
    }

    /// Re-opens `frame` as `..` of its child `childFD`: only if it is the same directory, then back at its cookie.
    private static func reopen(_ frame: inout Frame, from childFD: Int32) -> Bool {
        let fd = openat(childFD, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_dev == frame.device, info.st_ino == frame.inode,
            lseek(fd, off_t(frame.cookie), SEEK_SET) >= 0
        else {
            close(fd)
            return false
        }
        frame.fd = fd
        return true
    }

    /// Whether a non-directory `name` completes one of `states` (closed under `**`, so only a state on
    /// an alternative's last segment, never a `**`, can).
    @inline(__always)
    private func listsFile(_ name: UnsafeBufferPointer<UInt8>, in states: [UInt32], _ alternatives: [[GlobPattern.Segment]]) -> Bool {
        for state in states {
            let (alternative, index) = decode(state)
            let segments = alternatives[alternative]
            guard index == segments.count - 1 else { continue }
            if case .globstar = segments[index] { continue }
            if segments[index].matches(name) { return true }
        }
        return false
    }
}

extension WalkOutput {
    /// Records a match: `directory` + `name` into the arena.
    @inline(__always)
    mutating func add(_ directory: ArraySlice<UInt8>, _ name: UnsafeBufferPointer<UInt8>, seconds: Int64, nanoseconds: UInt32) {
        let start = arena.count
        arena.append(contentsOf: directory)
        arena.append(contentsOf: name)
        found.append(Found(seconds: seconds, nanoseconds: nanoseconds, start: start, count: arena.count - start))
    }
}
