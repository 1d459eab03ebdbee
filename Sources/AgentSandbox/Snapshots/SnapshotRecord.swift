import Foundation
import GRDB

/// One snapshot row: a compressed archive of an agent's workspace at one moment, stored in the
/// `SnapshotBlobStore` under `blobKey`. Deleting the agent's row deletes its snapshot rows
/// (`ON DELETE CASCADE`); the blobs are removed by `SnapshotService`.
public struct SnapshotRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "snapshots"

    public var id: String
    public var agentId: String
    public var name: String?
    /// Bytes of the stored (compressed) archive: what counts against the quota.
    public var size: Int64
    /// Entries (files, directories, symlinks) in the snapshot, and its tar size before compression.
    public var entries: Int64
    public var uncompressedBytes: Int64
    public var blobKey: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, size, entries
        case agentId = "agent_id"
        case uncompressedBytes = "uncompressed_bytes"
        case blobKey = "blob_key"
        case createdAt = "created_at"
    }

    /// The JSON the snapshot routes answer.
    public var json: JSONValue {
        .object([
            "snapshot_id": .string(id),
            "agent_id": .string(agentId),
            "name": name.map { .string($0) } ?? .null,
            "size": .number(Double(size)),
            "entries": .number(Double(entries)),
            "uncompressed_bytes": .number(Double(uncompressedBytes)),
            "format": "tar.zst",
            "created_at": .string(ISO8601DateFormatter.snapshot.string(from: createdAt)),
        ])
    }
}

extension ISO8601DateFormatter {
    /// UTC with milliseconds (snapshots taken within one second still sort).
    nonisolated(unsafe) static let snapshot: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}
