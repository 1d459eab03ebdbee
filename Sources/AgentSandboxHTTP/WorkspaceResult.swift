import AgentSandbox

/// The "workspace" route family's tool-specific bodies, derived from the envelope.
enum WorkspaceResult {
    static func body(tool: String, envelope: Envelope) -> JSONValue {
        func string(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        let extras = envelope.extras
        switch tool {
        case "bash":
            return [
                "stdout": string(envelope.stdout), "stderr": string(envelope.stderr),
                "exit_code": envelope.exitCode.map { .number(Double($0)) } ?? .null,
                "duration": .number((extras["duration_ms"]?.doubleValue ?? 0) / 1000),
            ]
        case "file_read":
            return [
                "content": string(envelope.content), "lines_count": extras["total_lines"] ?? .null,
                "encoding_detected": extras["encoding"] ?? "utf-8",
            ]
        case "file_edit":
            return ["path": string(envelope.path), "replacements_made": extras["replacements_made"] ?? 0]
        case "multi_edit":
            return ["results": extras["results"] ?? []]
        case "glob":
            return ["matches": .array(envelope.matches ?? []), "total_found": extras["total_found"] ?? 0, "truncated": extras["truncated"] ?? false]
        case "grep":
            return ["matches": .array(envelope.matches ?? []), "total_matches": extras["total_matches"] ?? 0]
        default:
            var fields: [String: JSONValue] = ["path": string(envelope.path), "url": string(envelope.url), "content": string(envelope.content)]
            for (key, value) in extras { fields[key] = value }
            return .object(fields)
        }
    }
}
