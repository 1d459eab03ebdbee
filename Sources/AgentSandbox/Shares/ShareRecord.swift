import Foundation
import GRDB

/// One published snapshot: who shared which file, where its copy lives, and until when.
///
/// The `token` is the only secret in the URL (256 random bits, unrelated to the agent or the path);
/// the snapshot file is named by an independent random `blob` id in the root-only share store.
public struct ShareRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "shares"

    public var token: String
    public var agentId: String
    /// The workspace path the snapshot was taken from (relative to the workspace root).
    public var path: String
    /// The name served in the URL and in `Content-Disposition`.
    public var filename: String
    /// The snapshot's file name in the share store.
    public var blob: String
    public var size: Int64
    public var sha256: String
    public var contentType: String
    public var createdAt: Date
    public var expiresAt: Date

    enum CodingKeys: String, CodingKey {
        case token, path, filename, blob, size, sha256
        case agentId = "agent_id"
        case contentType = "content_type"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
    }

    /// The JSON served by the shares API.
    public func json(url: String) -> JSONValue {
        let formatter = ISO8601DateFormatter()
        return [
            "token": .string(token), "url": .string(url), "path": .string(path), "filename": .string(filename),
            "size": .number(Double(size)), "sha256": .string(sha256), "content_type": .string(contentType),
            "created_at": .string(formatter.string(from: createdAt)), "expires_at": .string(formatter.string(from: expiresAt)),
        ]
    }
}
