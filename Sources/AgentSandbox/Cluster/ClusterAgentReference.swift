/// An agent id as a cluster client may write it: a plain UUID, or `{node}.{uuid}` as in the sandbox
/// API our users come from. The node part is only a hint (the agent may have moved since the id was
/// handed out): the shared store decides where the agent lives, and replies carry the canonical id
/// (the plain lower-case UUID).
public struct ClusterAgentReference: Sendable, Equatable {
    public let agent: AgentID
    /// The node named before the dot, if any.
    public let nodeHint: String?

    /// Parses `text`; a bad UUID part is the same 400 a single node gives.
    public init(_ text: String) throws(ToolError) {
        if let dot = text.utf8.lastIndex(of: UInt8(ascii: ".")), dot != text.startIndex {
            let hint = String(text[..<dot])
            guard ClusterNodeName.isValid(hint) else {
                throw ToolError(.invalidRequest, "Invalid agent id '\(text.prefix(80))': write a UUID, or NODE.UUID where NODE is a node name (letters, digits, '-' and '_').")
            }
            agent = try AgentID(String(text[text.index(after: dot)...]))
            nodeHint = hint
        } else {
            agent = try AgentID(text)
            nodeHint = nil
        }
    }
}

/// Node names: 1–63 characters of letters, digits, `-` and `_` (safe in ids, URLs and logs).
public enum ClusterNodeName {
    public static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 63 else { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte == 0x2d || byte == 0x5f
        }
    }
}
