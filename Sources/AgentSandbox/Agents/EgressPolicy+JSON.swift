import SandboxKernel

/// `EgressPolicy` as the agents API reads and shows it: `{"allow": [...], "deny": [...]}`, a bad entry
/// a 400 that names it (`egress.allow[2]`).
extension EgressPolicy {
    /// The policy as the agents API shows it.
    public var json: JSONValue {
        .object(["allow": .array(allow.map(JSONValue.string)), "deny": .array(deny.map(JSONValue.string))])
    }

    /// Parses `{"allow": [...], "deny": [...]}` (either list may be absent), naming the bad field
    /// (`egress.allow[2]`). Entries are kept as written, trimmed and lower-cased.
    public static func parse(_ value: JSONValue, field: String = "egress") throws(ToolError) -> EgressPolicy {
        guard case .object(let object) = value else { throw ToolError.invalidField(field, "must be an object such as {\"allow\": [\"pypi.org:443\"], \"deny\": [\"203.0.113.0/24\"]}.") }
        for key in object.keys where key != "allow" && key != "deny" {
            throw ToolError.invalidField("\(field).\(key)", "is not an egress field: use allow and deny.")
        }
        func list(_ key: String) throws(ToolError) -> [String] {
            guard let value = object[key], value != .null else { return [] }
            guard case .array(let items) = value else { throw ToolError.invalidField("\(field).\(key)", "must be an array of strings.") }
            guard items.count <= maxEntries else { throw ToolError.invalidField("\(field).\(key)", "has \(items.count) entries; at most \(maxEntries).") }
            var entries: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let text) = item else { throw ToolError.invalidField("\(field).\(key)[\(index)]", "must be a string.") }
                let entry = text.trimmingSpaces.lowercased()
                if let problem = EgressEntry.problem(entry) { throw ToolError.invalidField("\(field).\(key)[\(index)]", "\(problem) ('\(text)').") }
                entries.append(entry)
            }
            return entries
        }
        return EgressPolicy(allow: try list("allow"), deny: try list("deny"))
    }

    /// Parses comma-separated lists (the server's flags and env vars); nil and a sentence when an entry is bad.
    public static func parse(allow: [String], deny: [String]) -> Result<EgressPolicy, ToolError> {
        func split(_ values: [String]) -> JSONValue {
            .array(values.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces }.filter { !$0.isEmpty }.map(JSONValue.string))
        }
        do throws(ToolError) {
            return .success(try parse(.object(["allow": split(allow), "deny": split(deny)])))
        } catch {
            return .failure(error)
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String { String(self).trimmingSpaces }
}
