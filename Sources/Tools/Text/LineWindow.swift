#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// Streams a file once and keeps only the lines `first...last` (1-based), up to `cap` bytes, while
/// counting every line — so `total_lines` is exact and memory stays bounded for any file size.
struct LineWindow {
    let first: Int
    let last: Int
    let cap: Int

    /// The kept bytes (whole lines, unless one line alone exceeds the cap).
    private(set) var bytes: [UInt8] = []
    /// The last line kept whole (first - 1 when none).
    private(set) var lastKept: Int
    /// True when the cap stopped collection before `last`.
    private(set) var capped = false
    /// True when a single line longer than the cap was cut.
    private(set) var cutLine = false
    /// True when a NUL byte occurs in the first 8 KiB of the file or in the kept bytes.
    private(set) var sawNUL = false

    private var line = 1
    private var seen = 0
    private var lastByte: UInt8?
    /// Where the line being collected starts in `bytes`.
    private var lineStart = 0

    init(first: Int, last: Int, cap: Int) {
        self.first = first
        self.last = last
        self.cap = cap
        lastKept = first - 1
    }

    /// Lines in the whole file (valid after the last chunk).
    var totalLines: Int { lastByte == nil ? 0 : (lastByte == ByteText.newline ? line - 1 : line) }

    /// Feeds the next chunk of the file.
    mutating func consume(_ chunk: UnsafeRawBufferPointer) {
        guard let base = chunk.baseAddress, chunk.count > 0 else { return }
        if seen < 8192, memchr(base, 0, min(chunk.count, 8192 - seen)) != nil { sawNUL = true }
        seen += chunk.count
        lastByte = chunk[chunk.count - 1]
        if line >= first, !capped, bytes.count + chunk.count <= cap, keepWhole(chunk) { return }
        var position = 0
        while position < chunk.count {
            let rest = chunk.count - position
            if line > last || capped {
                line += Int(csandbox_count_byte(base + position, rest, ByteText.newline))
                return
            }
            let hit = memchr(base + position, Int32(ByteText.newline), rest)
            let end = hit.map { base.distance(to: UnsafeRawPointer($0)) + 1 } ?? chunk.count
            if line >= first { keep(UnsafeRawBufferPointer(rebasing: chunk[position..<end]), complete: hit != nil) }
            if hit != nil { line += 1 }
            position = end
        }
    }

    /// The common case in one step: every line of `chunk` is in the window and fits under the cap.
    /// Keeps it all and returns true; false (nothing done) when a line past `last` starts in it.
    private mutating func keepWhole(_ chunk: UnsafeRawBufferPointer) -> Bool {
        let newlines = Int(csandbox_count_byte(chunk.baseAddress!, chunk.count, ByteText.newline))
        guard newlines <= last - line else { return false }
        if !sawNUL, memchr(chunk.baseAddress!, 0, chunk.count) != nil { sawNUL = true }
        if bytes.isEmpty { bytes.reserveCapacity(chunk.count) }
        bytes += chunk
        if newlines > 0 {
            line += newlines
            lastKept = line - 1
            var tail = 0
            while chunk[chunk.count - 1 - tail] != ByteText.newline { tail += 1 }
            lineStart = bytes.count - tail
        }
        return true
    }

    private mutating func keep(_ piece: UnsafeRawBufferPointer, complete: Bool) {
        if bytes.count + piece.count > cap {
            capped = true
            if lastKept < first {
                // The first line alone exceeds the cap: cut it at a UTF-8 boundary.
                bytes += piece.prefix(cap - bytes.count)
                while let tail = bytes.last, tail & 0xC0 == 0x80 { bytes.removeLast() }
                if let lead = bytes.last, lead >= 0xC0 { bytes.removeLast() }
                cutLine = true
            } else {
                // Keep whole lines only: drop the start of a line split across chunks.
                bytes.removeSubrange(lineStart...)
            }
            return
        }
        if !sawNUL, memchr(piece.baseAddress!, 0, piece.count) != nil { sawNUL = true }
        bytes += piece
        if complete {
            lastKept = line
            lineStart = bytes.count
        }
    }

    /// Call after the last chunk: a final line without newline counts as kept.
    mutating func finish() {
        if !capped, line >= first, line <= last, lastByte != nil, lastByte != ByteText.newline, !bytes.isEmpty {
            lastKept = line
        }
    }
}
