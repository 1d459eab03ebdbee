#if canImport(Glibc)
import Glibc
#endif
import AgentSandbox
import Foundation
import SandboxKernel

/// `file_read`: a text file (or a line range of it) from the workspace.
///
/// Lines are 1-based and inclusive; `offset`/`limit` (Claude Code's names: first line and line count)
/// map onto `start_line`/`end_line`. Content over 256 KiB is cut at a line boundary with
/// `truncated: true` and a hint naming the next `start_line`. Files with NUL bytes are `BINARY_FILE`
/// unless `encoding` is `base64`. The file is streamed once, so `total_lines` is exact at any size.
/// `encoding_detected` is the whole file's text encoding (`TextEncoding`): `utf-8`, or `latin-1` for
/// any other file, whose bytes are then shown one character each — the mapping the edit tools write back.
public struct FileReadTool: Tool {
    public struct Input: Decodable, Sendable {
        var path: String
        var startLine: Int?
        var endLine: Int?
        var offset: Int?
        var limit: Int?
        var encoding: String
        var lineNumbers: Bool
    }

    public static let name = "file_read"
    /// Most content bytes one call returns.
    public static let contentCap = 256 << 10
    /// Files up to this size are read on the calling task (one `read` of cached data costs less than a
    /// thread hop); larger ones on `BlockingWork`, so a big or cold file never holds a cooperative thread.
    static let inlineReadBytes = 1 << 20

    public init() {}

    public func run(_ input: Input, context: ToolContext) async throws -> Envelope {
        let paths = context.workspace.paths
        let relative = try paths.relative(input.path, field: "path")
        let (first, last) = try lineRange(input)
        let file = try paths.openForReading(relative, owner: context.workspace.launchIdentity, display: input.path)
        if file.size <= Self.inlineReadBytes {
            return try envelope(file, relative: relative, lines: (first, last), input: input)
        }
        return try await BlockingWork.run { try envelope(file, relative: relative, lines: (first, last), input: input) }
    }

    /// The envelope for lines `first...last` of the open file.
    private func envelope(_ file: OpenFile, relative: String, lines: (first: Int, last: Int), input: Input) throws -> Envelope {
        let (first, last) = lines
        var window = LineWindow(first: first, last: last, cap: Self.contentCap)
        var validity = UTF8Validity()
        try stream(file, into: &window, validity: &validity, display: input.path)
        let detected = validity.finish()

        let total = window.totalLines
        if first > max(total, 1) {
            throw ToolError(.lineOutOfRange, "start_line \(first) is past the end of '\(input.path)', which has \(total) line\(total == 1 ? "" : "s"). Use a start_line between 1 and \(max(total, 1)).")
        }
        let base64 = input.encoding == "base64"
        if window.sawNUL, !base64 {
            throw ToolError(.binaryFile, "'\(input.path)' is a binary file (it contains NUL bytes). Read it with encoding=\"base64\", or inspect it with bash (e.g. file, xxd | head).")
        }
        let content = if base64 {
            Data(window.bytes).base64EncodedString()
        } else if input.lineNumbers {
            ByteText.numbered(window.bytes[...], firstLine: first, encoding: detected)
        } else {
            detected.decode(window.bytes)
        }
        // One literal: the dictionary is allocated once at its size, not grown key by key.
        var extras: [String: JSONValue] = [
            "total_lines": .number(Double(total)),
            "encoding": .string(base64 ? "base64" : detected.rawValue),
            "encoding_detected": .string(detected.rawValue),
            "truncated": .bool(window.capped),
        ]
        if window.capped { extras["hint"] = .string(hint(window, total: total)) }
        return Envelope(content: content, path: relative, extras: extras)
    }

    /// The requested inclusive range; `start_line`/`end_line` win over `offset`/`limit`.
    private func lineRange(_ input: Input) throws(ToolError) -> (Int, Int) {
        let first = input.startLine ?? max(input.offset ?? 1, 1)
        guard first >= 1 else { throw ToolError.invalidField("start_line", "must be at least 1 (lines are 1-based).") }
        var last = input.endLine ?? input.limit.map { first > Int.max - $0 ? .max : first + max($0, 1) - 1 } ?? .max
        if input.endLine == -1 { last = .max }
        guard last >= first else {
            throw ToolError(.lineOutOfRange, "end_line \(last) is before start_line \(first). Give an end_line of at least \(first), or leave it out to read to the end.")
        }
        return (first, last)
    }

    private func stream(_ file: OpenFile, into window: inout LineWindow, validity: inout UTF8Validity, display: String) throws(ToolError) {
        var buffer = [UInt8](repeating: 0, count: min(max(file.size + 1, 4096), 1 << 20))
        while true {
            var failure: Int32 = 0
            let count = buffer.withUnsafeMutableBytes { raw -> Int in
                let got = retryingEINTR { read(file.fd, raw.baseAddress!, raw.count) }
                if got < 0 { failure = errno }
                return got
            }
            if count < 0 { throw PathResolver.error(errno: failure, path: display) }
            if count == 0 { break }
            buffer.withUnsafeBytes { raw in
                let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                window.consume(chunk)
                validity.consume(chunk)
            }
        }
        window.finish()
    }

    private func hint(_ window: LineWindow, total: Int) -> String {
        let cap = "\(Self.contentCap >> 10) KiB"
        if window.cutLine {
            return "Line \(window.first) alone is longer than the \(cap) content cap and was cut. Use bash (e.g. cut -c1-2000) or encoding=\"base64\" with a range to see the rest."
        }
        return "Content cut at the \(cap) cap after line \(window.lastKept) of \(total). Call file_read again with start_line=\(window.lastKept + 1) (and an end_line) to read on."
    }
}
