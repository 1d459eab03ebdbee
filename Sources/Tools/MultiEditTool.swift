import AgentSandbox

/// `multi_edit`: several file_edit-style edits, in order (later edits see earlier results), across
/// one or many files, all-or-nothing: if any edit fails no file changes, and because every new
/// version is written in full before any rename, a crash never leaves a file half-written.
public struct MultiEditTool: BlockingTool {
    public struct Input: Decodable, Sendable {
        struct Edit: Decodable, Sendable {
            var path: String?
            var oldText: String
            var newText: String
            var replaceAll: Bool
        }
        var path: String?
        var edits: [Edit]
    }

    public static let name = "multi_edit"

    public init() {}

    public func runBlocking(_ input: Input, context: ToolContext) throws -> Envelope {
        var session = EditSession(workspace: context.workspace)
        var results: [JSONValue] = []
        var excerpts: [String] = []
        var total = 0
        for (index, edit) in input.edits.enumerated() {
            let field = "edits[\(index)].path"
            guard let path = edit.path ?? input.path else {
                throw ToolError.invalidField(field, "is required (or give a top-level `path` for all edits).")
            }
            let applied: EditSession.Applied
            do {
                applied = try session.apply(TextEdit(oldText: edit.oldText, newText: edit.newText, replaceAll: edit.replaceAll), path: path, field: field)
            } catch {
                throw Self.annotate(error, edit: index, of: input.edits.count)
            }
            total += applied.replacements
            results.append(["path": .string(applied.path), "replacements_made": .number(Double(applied.replacements)), "status": "ok"])
            excerpts.append("edit \(index + 1): \(applied.path) (\(applied.replacements) replacement\(applied.replacements == 1 ? "" : "s"))\n\(applied.excerpt)")
        }
        try session.commit()
        var envelope = Envelope(content: excerpts.joined(separator: "\n"), path: input.path)
        envelope.extras["replacements_made"] = .number(Double(total))
        envelope.extras["results"] = .array(results)
        return envelope
    }

    /// Names the failing edit and that nothing changed (request-level 400s are left as they are).
    /// `failed_edit` is 1-based, the number the sentence uses ("Edit 2 of 2" → 2).
    private static func annotate(_ error: ToolError, edit index: Int, of count: Int) -> ToolError {
        guard error.code != .invalidRequest else { return error }
        var failure = error
        failure.message = "Edit \(index + 1) of \(count) failed: \(error.message) No file was changed."
        failure.envelope = Envelope(extras: ["failed_edit": .number(Double(index + 1))])
        return failure
    }
}
