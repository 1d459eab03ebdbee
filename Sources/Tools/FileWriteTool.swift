import AgentSandbox
import Foundation

/// `file_write`: creates or replaces a file atomically (temp file in the same directory, fsync,
/// rename), owned by the agent. An existing file keeps its mode; new files are 0644 and missing
/// parent directories (with `create_dirs`, the default) 0755. `mode: "a"` appends — still atomically,
/// and in the existing file's encoding (`TextEncoding`): text appended to a latin-1 file is written
/// one byte per character, or refused with `ENCODING_MISMATCH`, never mixed in as UTF-8.
public struct FileWriteTool: BlockingTool {
    public struct Input: Decodable, Sendable {
        var path: String
        var content: String
        var createDirs: Bool
        var encoding: String
        var mode: String
    }

    public static let name = "file_write"

    public init() {}

    public func runBlocking(_ input: Input, context: ToolContext) throws -> Envelope {
        let workspace = context.workspace
        let owner = workspace.launchIdentity
        let relative = try workspace.paths.relative(input.path, field: "path")
        var written = try decode(input)
        var bytes = written
        let target = try workspace.paths.writeTarget(relative, createDirectories: input.createDirs, owner: owner, display: input.path)
        if input.mode == "a", target.existing != nil {
            let file = try workspace.paths.openForReading(target, owner: owner, display: input.path)
            let existing = try file.readAll(display: input.path)
            if input.encoding != "base64", TextEncoding.detect(existing) == .latin1 {
                written = try TextEncoding.latin1.encode(input.content, field: "content", display: input.path)
            }
            bytes = existing + written
        }
        try StagedFile.write(bytes, to: target, owner: owner, display: input.path)

        var envelope = Envelope(path: target.relative)
        envelope.extras["bytes_written"] = .number(Double(written.count))
        envelope.extras["size"] = .number(Double(bytes.count))
        envelope.extras["created"] = .bool(target.existing == nil)
        return envelope
    }

    private func decode(_ input: Input) throws(ToolError) -> [UInt8] {
        guard input.encoding == "base64" else { return Array(input.content.utf8) }
        let compact = input.content.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: compact) else {
            throw ToolError(.invalidContent, "content is not valid base64. Send the bytes base64-encoded (RFC 4648, with padding), or use encoding=\"utf-8\" for text.")
        }
        return [UInt8](data)
    }
}
