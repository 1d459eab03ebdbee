/// An envelope as text written for a model — what a tool-result message or an MCP text content carries.
/// Shaped like Claude Code's tools: a command's stdout, then its stderr, then a non-zero exit code; a
/// file's text; one path or match per line; an error as its sentence (with any partial output).
public enum ModelText {
    public static func render(_ envelope: Envelope, tool: String) -> String {
        var parts: [String] = []
        if envelope.status == .error {
            let code = envelope.extras["error_code"]?.stringValue.map { " [\($0)]" } ?? ""
            parts.append("Error\(code): \(envelope.error ?? "the call failed.")")
        }
        switch tool {
        case "bash", "exec", "exec_start", "exec_output", "exec_kill":
            if let line = sessionLine(envelope, tool: tool) { parts.append(line) }
            if let stdout = envelope.stdout, !stdout.isEmpty { parts.append(stdout) }
            if let stderr = envelope.stderr, !stderr.isEmpty { parts.append("[stderr]\n" + stderr) }
            if let code = envelope.exitCode, code != 0 { parts.append("Exit code: \(code)") }
            if envelope.status == .ok, parts.isEmpty { parts.append("(no output)") }
        case "glob":
            guard envelope.status == .ok else { break }
            let paths = (envelope.matches ?? []).compactMap(\.stringValue)
            parts.append(paths.isEmpty ? "No files found." : paths.joined(separator: "\n"))
            if envelope.extras["truncated"]?.boolValue == true {
                parts.append("[results truncated: \(Int(envelope.extras["total_found"]?.doubleValue ?? 0)) found; narrow the pattern]")
            }
        case "grep":
            guard envelope.status == .ok else { break }
            parts.append(grepLines(envelope.matches ?? []))
            if envelope.extras["truncated"]?.boolValue == true { parts.append("[results truncated; narrow the search]") }
        case "file_share":
            guard envelope.status == .ok, let url = envelope.url else { break }
            parts.append(url + (envelope.extras["expires_at"]?.stringValue.map { " (expires \($0))" } ?? ""))
        default:
            guard envelope.status == .ok else { break }
            if let content = envelope.content {
                parts.append(content)
                if envelope.extras["truncated"]?.boolValue == true {
                    parts.append("[truncated: \(Int(envelope.extras["total_lines"]?.doubleValue ?? 0)) lines in all; read a range with start_line/end_line]")
                }
            } else if let path = envelope.path {
                parts.append("OK: \(path)")
            } else {
                parts.append("OK")
            }
        }
        return parts.joined(separator: "\n")
    }

    /// An exec session tool's first line: `Session ID: state[, pid N][, exit code N][, sent SIGNAL]`.
    private static func sessionLine(_ envelope: Envelope, tool: String) -> String? {
        guard tool.hasPrefix("exec_"), envelope.status == .ok, let id = envelope.extras["session_id"]?.stringValue else { return nil }
        var line = "Session \(id): \(envelope.extras["state"]?.stringValue ?? "running")"
        if tool == "exec_start", let pid = envelope.extras["pid"]?.doubleValue { line += ", pid \(Int(pid))" }
        if let signal = envelope.extras["signal_sent"]?.stringValue { line += ", sent \(signal)" }
        return line
    }

    private static func grepLines(_ matches: [JSONValue]) -> String {
        if matches.isEmpty { return "No matches found." }
        return matches.map { match -> String in
            if let path = match.stringValue { return path }
            let file = match["file"]?.stringValue ?? ""
            if let count = match["count"]?.doubleValue { return "\(file):\(Int(count))" }
            let line = match["line"]?.doubleValue.map { String(Int($0)) } ?? ""
            return "\(file):\(line):\(match["content"]?.stringValue ?? "")"
        }.joined(separator: "\n")
    }
}
