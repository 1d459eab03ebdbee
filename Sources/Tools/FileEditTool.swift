import AgentSandbox

/// `file_edit`: replaces an exact, case-sensitive `old_text` with `new_text` in one file, atomically.
///
/// 0 matches → `EDIT_NOT_FOUND` (naming a whitespace-only near match's line); several without
/// `replace_all` → `EDIT_NOT_UNIQUE` with the count and line numbers; `old_text == new_text` →
/// `EDIT_NO_CHANGE`. `content` is the edited region, numbered like `cat -n`. CRLF files keep CRLF.
public struct FileEditTool: BlockingTool {
    public struct Input: Decodable, Sendable {
        var path: String
        var oldText: String
        var newText: String
        var replaceAll: Bool
    }

    public static let name = "file_edit"

    public init() {}

    public func runBlocking(_ input: Input, context: ToolContext) throws -> Envelope {
        var session = EditSession(workspace: context.workspace)
        let edit = TextEdit(oldText: input.oldText, newText: input.newText, replaceAll: input.replaceAll)
        let applied = try session.apply(edit, path: input.path, field: "path")
        try session.commit()
        var envelope = Envelope(content: applied.excerpt, path: applied.path)
        envelope.extras["replacements_made"] = .number(Double(applied.replacements))
        return envelope
    }
}
