#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Walks a directory tree beneath an open descriptor and collects the non-directory entries a
/// `GlobPattern` matches, newest modification first.
///
/// Safe to run as root on an agent's tree: every directory is opened with `openat2(parent, name,
/// O_NOFOLLOW | O_DIRECTORY, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` relative to its already-open parent, so a symlink (even one swapped in
/// mid-walk) is never followed and the walk cannot leave the starting directory. Nothing is read but
/// names and modification times. Directories no pattern alternative can still match are not opened;
/// `.git` directories are skipped.
///
/// The walk runs on `threads` threads (the caller's and helpers) that share directories through a
/// small `WalkQueue`; each reads directories with `getdents64` into its own buffers, matches raw
/// name bytes, and stores only matching paths, as bytes in one arena. Strings are built for the
/// returned paths only.
///
/// ```swift
/// let result = GlobWalker(pattern: try GlobPattern("**/*.swift")).walk(directoryFD: fd, prefix: "", limit: 100, deadline: .distantFuture)
/// ```
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
    /// Threads walking at once, the caller's included (one per core, at most four).
    public var threads = min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 4)

    public init(pattern: GlobPattern) { self.pattern = pattern }

    /// Walks `directoryFD` (opened `O_RDONLY | O_DIRECTORY`; the walker takes ownership) and returns
    /// up to `limit` matches, each prefixed with `prefix` (e.g. `"src/"`).
    public func walk(directoryFD: Int32, prefix: String, limit: Int, deadline: Date) -> Result {
        let workers = max(threads, 1)
        let queue = WalkQueue(capacity: 4 * workers, deadline: deadline)
        let rootStates = closure(pattern.alternatives.indices.map { encode($0, 0) })
        queue.push(WalkQueue.Item(fd: directoryFD, path: Array(prefix.utf8), states: rootStates, depth: 0))

        let outputs = WalkOutputs(count: workers)
        let finished = DispatchSemaphore(value: 0)
        for index in 1..<workers {
            let thread = Thread { [self] in
                outputs[index] = work(queue)
                finished.signal()
            }
            thread.name = "glob-walk"
            thread.start()
        }
        outputs[0] = work(queue)
        for _ in 1..<workers { finished.wait() }
        queue.closeRemaining()
        return merge(outputs.all, limit: limit, timedOut: queue.timedOut)
    }

    /// Sorts every worker's matches (newest first, ties by path bytes) and builds the first `limit` paths.
    private func merge(_ outputs: [WalkOutput], limit: Int, timedOut: Bool) -> Result {
        var arena: [UInt8] = []
        var found: [WalkOutput.Found] = []
        arena.reserveCapacity(outputs.reduce(0) { $0 + $1.arena.count })
        found.reserveCapacity(outputs.reduce(0) { $0 + $1.found.count })
        for output in outputs {
            let base = arena.count
            arena += output.arena
            found += output.found.map { .init(seconds: $0.seconds, nanoseconds: $0.nanoseconds, start: $0.start + base, count: $0.count) }
        }
        let paths: [String] = arena.withUnsafeBufferPointer { bytes in
            let newestFirst = { (a: WalkOutput.Found, b: WalkOutput.Found) -> Bool in
                if a.seconds != b.seconds { return a.seconds > b.seconds }
                if a.nanoseconds != b.nanoseconds { return a.nanoseconds > b.nanoseconds }
                let order = memcmp(bytes.baseAddress! + a.start, bytes.baseAddress! + b.start, min(a.count, b.count))
                return order != 0 ? order < 0 : a.count < b.count
            }
            if limit < found.count / 2 {
                // Only the first `limit` are returned: select them, then sort those.
                found = Self.smallest(limit, of: found, by: newestFirst)
            } else {
                found.sort(by: newestFirst)
            }
            return found.prefix(limit).map { String(decoding: UnsafeBufferPointer(rebasing: bytes[$0.start..<($0.start + $0.count)]), as: UTF8.self) }
        }
        let total = outputs.reduce(0) { $0 + $1.found.count }
        return Result(paths: paths, totalFound: total, timedOut: timedOut)
    }

    /// The `count` first elements of `elements` in `precedes` order, sorted (a bounded max-heap).
    static func smallest<T>(_ count: Int, of elements: [T], by precedes: (T, T) -> Bool) -> [T] {
        guard count > 0 else { return [] }
        var heap: [T] = []
        heap.reserveCapacity(count)
        for element in elements {
            if heap.count < count {
                heap.append(element)
                var child = heap.count - 1
                while child > 0, precedes(heap[(child - 1) / 2], heap[child]) {
                    heap.swapAt(child, (child - 1) / 2)
                    child = (child - 1) / 2
                }
            } else if precedes(element, heap[0]) {
                heap[0] = element
                var parent = 0
                while true {
                    let left = 2 * parent + 1, right = left + 1
                    var largest = parent
                    if left < heap.count, precedes(heap[largest], heap[left]) { largest = left }
                    if right < heap.count, precedes(heap[largest], heap[right]) { largest = right }
                    if largest == parent { break }
                    heap.swapAt(parent, largest)
                    parent = largest
                }
            }
        }
        heap.sort(by: precedes)
        return heap
    }

    // MARK: States: (alternative, segment index) packed in a UInt32.

    @inline(__always) func encode(_ alternative: Int, _ index: Int) -> UInt32 { UInt32(alternative) << 16 | UInt32(index) }
    @inline(__always) func decode(_ state: UInt32) -> (Int, Int) { (Int(state >> 16), Int(state & 0xFFFF)) }

    /// Adds `state` and, while it sits on a `**`, the state after it (zero directories).
    /// Sets `terminal` when a state reaches the end of its alternative.
    func addWithClosure(_ state: UInt32, to states: inout [UInt32], terminal: inout Bool) {
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

/// One worker's matches: path bytes in one arena, and where each lies in it.
struct WalkOutput: Sendable {
    struct Found: Sendable {
        let seconds: Int64
        let nanoseconds: UInt32
        let start: Int
        let count: Int
    }

    var arena: [UInt8] = []
    var found: [Found] = []
}

/// The workers' outputs, each slot written by its own thread and read after all have finished.
private final class WalkOutputs: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<WalkOutput>
    private let count: Int

    init(count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        slots.initialize(repeating: WalkOutput(), count: count)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    subscript(index: Int) -> WalkOutput {
        get { slots[index] }
        set { slots[index] = newValue }
    }

    var all: [WalkOutput] { Array(UnsafeBufferPointer(start: slots, count: count)) }
}
