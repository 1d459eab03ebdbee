#if canImport(Glibc)
import Glibc
#endif
import AgentSandbox

/// Files being edited together (file_edit: one; multi_edit: several): each is loaded once, edits
/// apply in memory in order (later edits see earlier results), and only when all succeeded are the
/// new versions staged next to their files and then renamed into place — all-or-nothing.
struct EditSession {
    /// One file's state during the session.
    private struct Pending {
        let target: WriteTarget
        let display: String
        var content: [UInt8]
        /// Detected when the file is loaded; every edit of the session writes in it.
        let encoding: TextEncoding
    }

    /// What one edit did, for the response.
    struct Applied {
        let path: String
        let replacements: Int
        let excerpt: String
    }

    private let workspace: Workspace
    private var files: [String: Pending] = [:]
    /// File keys in first-touched order (the commit order).
    private var order: [String] = []

    init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// Applies `edit` to the file at `raw` (as the caller wrote it; `field` names it in 400s).
    /// An empty `old_text` creates a missing or empty file with `new_text` (Claude Code's convention).
    mutating func apply(_ edit: TextEdit, path raw: String, field: String) throws(ToolError) -> Applied {
        let paths = workspace.paths
        let owner = workspace.launchIdentity
        let relative = try paths.relative(raw, field: field)
        let target = try paths.writeTarget(relative, createDirectories: edit.oldText.isEmpty, owner: owner, display: raw)
        let key = try Self.key(of: target, display: raw)
        if files[key] == nil {
            let content = try target.existing == nil ? nil : paths.openForReading(target, owner: owner, display: raw).readAll(display: raw)
            if content == nil, !edit.oldText.isEmpty {
                throw ToolError(.fileNotFound, "File not found: '\(raw)'. Paths are relative to the workspace root; create a file with file_write (or an edit with an empty old_text).")
            }
            files[key] = Pending(target: target, display: raw, content: content ?? [], encoding: TextEncoding.detect(content ?? []))
            order.append(key)
        }
        let current = files[key]!.content
        let encoding = files[key]!.encoding
        let result: EditResult
        if edit.oldText.isEmpty {
            guard current.isEmpty else {
                throw ToolError.invalidField(field == "path" ? "old_text" : field.replacingAll("path", with: "old_text"), "is empty but '\(raw)' has content; give the exact text to replace.")
            }
            let bytes = Array(edit.newText.utf8)
            result = EditResult(content: bytes, replacements: 1, regions: [0..<bytes.count])
        } else {
            result = try edit.apply(to: current, encoding: encoding, display: raw)
        }
        files[key]!.content = result.content
        return Applied(path: target.relative, replacements: result.replacements, excerpt: result.excerpt())
    }

    /// Stages every changed file, then renames them all into place. If staging fails, the staged
    /// files are removed and nothing changes.
    func commit() throws(ToolError) {
        let owner = workspace.launchIdentity
        var staged: [StagedFile] = []
        for key in order {
            let pending = files[key]!
            do {
                staged.append(try StagedFile.stage(pending.content, for: pending.target, owner: owner, display: pending.display))
            } catch {
                staged.forEach { $0.discard() }
                throw error
            }
        }
        for (index, file) in staged.enumerated() {
            do {
                try file.commit()
            } catch {
                staged[(index + 1)...].forEach { $0.discard() }
                throw error
            }
        }
    }

    /// Identifies a file by its directory's inode and its name, so two spellings of one file
    /// (through an in-tree symlinked directory) share their edits.
    private static func key(of target: WriteTarget, display: String) throws(ToolError) -> String {
        var info = stat()
        guard fstat(target.directory.fd, &info) == 0 else { throw PathResolver.error(errno: errno, path: display) }
        return "\(info.st_dev):\(info.st_ino)/\(target.name)"
    }
}
