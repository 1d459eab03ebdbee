#if canImport(Glibc)
import Glibc
#endif
import AgentSandbox
import CSandbox
import Foundation

/// `grep`: searches file contents with ripgrep, run as the agent's uid inside its workspace.
///
/// ripgrep runs through the same launcher as `bash` (the agent's uid, its cgroup, rlimits, the
/// timeout that kills the whole tree), so it can read nothing the agent could not read itself. It is
/// given only a path inside the workspace, resolved with `openat2(RESOLVE_BENEATH)`, and it does not
/// follow symlinks while walking (no `-L`). It searches hidden files, honours `.gitignore` like `rg`
/// does, and skips `.git/`.
public struct GrepTool: Tool {
    public struct Input: Decodable, Sendable {
        var pattern: String
        var path: String
        var include: String?
        var contextLines: Int
        var outputMode: OutputMode
        var caseInsensitive: Bool
        var maxResults: Int
        var multiline: Bool
        var timeout: Int
    }

    public enum OutputMode: String, Decodable, Sendable {
        case content
        case filesWithMatches = "files_with_matches"
        case count
    }

    public static let name = "grep"
    /// Where the ripgrep binary is (Debian package `ripgrep`).
    static let executable: String = ([String](["/usr/bin/rg", "/usr/local/bin/rg", "/bin/rg"])).first { access($0, X_OK) == 0 } ?? "/usr/bin/rg"

    public init() {}

    public func run(_ input: Input, context: ToolContext) async throws -> Envelope {
        let workspace = context.workspace
        let target = try searchTarget(input.path, in: workspace)
        let arguments = Self.arguments(for: input, target: target)
        let stripPrefix = target == "."
        // Content mode reads ripgrep's JSON while it runs, keeping at most max_results matches (and
        // their context) within the same budget as the other modes' output.
        let outputLimit = 128 << 20
        let stream = input.outputMode == .content
            ? RipgrepStream(RipgrepReader(limit: input.maxResults, contextLines: input.contextLines, retainLimit: outputLimit))
            : nil
        let result = try await workspace.run(
            Self.executable, arguments, timeout: Double(input.timeout), outputLimit: outputLimit, stdoutSink: stream)

        let stderr = result.stderr.render().trimmingCharacters(in: .whitespacesAndNewlines)
        if result.exitCode == 2, Self.isPatternError(stderr) {
            throw ToolError(.invalidPattern, "ripgrep rejected the pattern: \(stderr)")
        }
        var envelope: Envelope
        switch input.outputMode {
        case .content:
            envelope = GrepResults.content(stream!.finish(), contextLines: input.contextLines, stripDotSlash: stripPrefix)
        case .filesWithMatches:
            envelope = GrepResults.files(result.stdout.render(), limit: input.maxResults, stripDotSlash: stripPrefix)
        case .count:
            envelope = GrepResults.counts(result.stdout.render(), limit: input.maxResults, stripDotSlash: stripPrefix)
        }
        if result.stdout.truncated { envelope.extras["truncated"] = .bool(true) }
        if !stderr.isEmpty { envelope.stderr = String(stderr.prefix(8192)) }
        if result.timedOut {
            throw ToolError(.timeout, "The search did not finish within \(input.timeout) s and was stopped; partial matches are listed. Narrow `path` or `include`, or raise `timeout`.", envelope: envelope)
        }
        return envelope
    }

    /// ripgrep's command line: search options, the pattern (as `-e`), `--`, then the one target path.
    static func arguments(for input: Input, target: String) -> [String] {
        var arguments = ["--no-config", "--hidden", "--with-filename"]
        if let include = input.include, !include.isEmpty { arguments += ["--glob", include] }
        arguments += ["--glob", "!.git"]  // last, so an include such as '*' cannot re-admit .git
        if input.caseInsensitive { arguments.append("--ignore-case") }
        if input.multiline { arguments += ["--multiline", "--multiline-dotall"] }
        switch input.outputMode {
        case .content:
            arguments.append("--json")
            if input.contextLines > 0 { arguments += ["--context", String(input.contextLines)] }
        case .filesWithMatches:
            arguments += ["--files-with-matches", "--null"]
        case .count:
            arguments += ["--count", "--null"]
        }
        return arguments + ["--regexp", input.pattern, "--", target]
    }

    /// The path to hand ripgrep, relative to the workspace root (its working directory): resolved
    /// beneath the root (symlinks inside the workspace are resolved, ones leading out refused).
    private func searchTarget(_ raw: String, in workspace: Workspace) throws -> String {
        let paths = workspace.paths
        let relative = try paths.relative(raw, field: "path", allowRoot: true)
        if relative.isEmpty { return "." }
        let fd = try paths.open(relative, flags: csandbox_O_PATH, display: raw)
        defer { close(fd) }
        let rootFD = try paths.openRoot()
        defer { close(rootFD) }
        guard let host = PathResolver.hostPath(of: fd), let root = PathResolver.hostPath(of: rootFD) else {
            throw ToolError(.ioError, "Cannot resolve path '\(raw)'.")
        }
        if host == root { return "." }
        guard host.hasPrefix(root + "/") else {
            throw ToolError(.pathOutsideWorkspace, "Path '\(raw)' resolves outside the workspace. Use a path inside the workspace root.")
        }
        return String(host.dropFirst(root.count + 1))
    }

    /// ripgrep reports a bad regex or glob before it searches anything.
    static func isPatternError(_ stderr: String) -> Bool {
        ["regex parse error", "error parsing glob", "the literal", "PCRE2", "compiled regex exceeds"].contains { stderr.contains($0) }
    }
}
