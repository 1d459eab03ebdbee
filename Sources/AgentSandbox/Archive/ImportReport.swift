/// What an import did: counts of what was written, and what was left out and why.
public struct ImportReport: Sendable {
    public var files = 0
    public var directories = 0
    public var symlinks = 0
    public var hardLinks = 0
    /// Bytes of regular-file content written.
    public var bytes: Int64 = 0
    /// Entries read from the archive (including skipped ones).
    public var entries = 0
    /// Entries whose setuid, setgid or sticky bit was cleared.
    public var specialBitsCleared = 0
    public var skipped: [(path: String, reason: String)] = []
    public var skippedCount = 0
    /// The detected archive format and compression.
    public var format = ""
    public var compression = ""

    /// At most this many skipped entries are listed (all are counted).
    static let listedSkips = 200

    mutating func skip(_ path: [UInt8], _ reason: String) {
        skippedCount += 1
        if skipped.count < Self.listedSkips { skipped.append((ArchivePath.display(path), reason)) }
    }

    /// The reply body of `PUT /v1/agents/{id}/archive`.
    public func json(agent: AgentID, mode: ImportMode) -> JSONValue {
        .object([
            "agent_id": .string(agent.rawValue),
            "mode": .string(mode.rawValue),
            "format": .string(format),
            "compression": .string(compression),
            "entries": .number(Double(entries)),
            "files": .number(Double(files)),
            "directories": .number(Double(directories)),
            "symlinks": .number(Double(symlinks)),
            "hard_links": .number(Double(hardLinks)),
            "bytes": .number(Double(bytes)),
            "special_bits_cleared": .number(Double(specialBitsCleared)),
            "skipped_count": .number(Double(skippedCount)),
            "skipped": .array(skipped.map { .object(["path": .string($0.path), "reason": .string($0.reason)]) }),
        ])
    }
}

/// `PUT …/archive?mode=`: `replace` swaps the whole workspace for the archive's tree; `merge` adds
/// the archive's entries to the workspace, replacing files of the same path.
public enum ImportMode: String, Sendable {
    case replace, merge
}
