import Foundation
import GRDB

/// One published snapshot: who shared which file, which content it serves, and until when.
///
/// The `token` is the only secret in the URL (256 random bits, unrelated to the agent or the path).
/// The content lives once per distinct SHA-256 in the share store's blob tree (`ShareBlobStore`);
/// `sha256` is the row's reference to its `share_blobs` row (a foreign key).
public struct ShareRecord: SnakeCaseRecord, Sendable, Equatable {
    public static let databaseTableName = "shares"

    public var token: String
    public var agentId: String
    /// The workspace path the snapshot was taken from (relative to the workspace root).
    public var path: String
    /// The name served in the URL and in `Content-Disposition`.
    public var filename: String
    public var size: Int64
    /// The content's SHA-256 (lower-case hex): its blob's name and the download's ETag.
    public var sha256: String
    public var contentType: String
    public var createdAt: Date
    public var expiresAt: Date
    /// A snapshot file from before content addressing (`shares/<uuid>`), served until start-up adopts
    /// it into the blob tree; nil for every share made since.
    public var legacyFile: String?

    public init(token: String, agentId: String, path: String, filename: String, size: Int64, sha256: String,
                contentType: String, createdAt: Date, expiresAt: Date, legacyFile: String? = nil) {
        self.token = token
        self.agentId = agentId
        self.path = path
        self.filename = filename
        self.size = size
        self.sha256 = sha256
        self.contentType = contentType
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.legacyFile = legacyFile
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
