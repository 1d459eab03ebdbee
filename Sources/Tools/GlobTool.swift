#if canImport(Glibc)
import Glibc
#endif
import AgentSandbox
import Foundation
import SandboxKernel

/// `glob`: lists the files under `root_dir` whose path matches `pattern`, newest modification first.
///
/// Runs in the server process (no spawn), through `GlobWalker`: the start directory is opened with
/// `openat2(RESOLVE_BENEATH)` and every directory below it with `O_NOFOLLOW` relative to its parent,
/// so the walk never follows a symlink and never leaves the workspace; it reads only names and
/// modification times, which the agent can see anyway. Directories themselves are not listed.
public struct GlobTool: Tool {
    public struct Input: Decodable, Sendable {
        var pattern: String
        var rootDir: String
        var maxResults: Int
    }

    public static let name = "glob"
    /// A walk longer than this stops and reports a partial result.
    static let timeLimit: Double = 60

    public init() {}

    public func run(_ input: Input, context: ToolContext) async throws -> Envelope {
        let pattern: GlobPattern
        do {
            pattern = try GlobPattern(input.pattern)
        } catch {
            throw ToolError(.invalidPattern, "Invalid glob pattern '\(input.pattern)': \(error.description). Supported: *, ?, [abc], [!abc], {a,b}, ** (any depth).")
        }
        let paths = context.workspace.paths
        let relative = try paths.relative(input.rootDir, field: "root_dir", allowRoot: true)
        let fd = try paths.open(relative, flags: O_RDONLY | O_DIRECTORY, display: input.rootDir)
        let prefix = relative.isEmpty ? "" : relative + "/"
        let limit = input.maxResults
        let deadline = Date().addingTimeInterval(Self.timeLimit)
        let result = try await BlockingWork.run {
            GlobWalker(pattern: pattern).walk(directoryFD: fd, prefix: prefix, limit: limit, deadline: deadline)
        }
        var envelope = Envelope(matches: result.paths.map(JSONValue.string))
        envelope.extras["total_found"] = .number(Double(result.totalFound))
        envelope.extras["truncated"] = .bool(result.truncated || result.timedOut)
        if result.timedOut {
            throw ToolError(.timeout, "The search did not finish within \(Int(Self.timeLimit)) s; the matches found so far are listed. Narrow root_dir or the pattern.", envelope: envelope)
        }
        return envelope
    }
}
