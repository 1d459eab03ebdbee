import AgentSandbox
import Foundation

/// `file_share`: publishes a snapshot of one workspace file behind an unguessable, expiring URL.
///
/// The file is copied into the server's root-only share store at call time (later edits or a delete
/// do not change the download); the URL needs no API key. List and revoke shares with
/// `GET/DELETE /v1/agents/{id}/shares[/{token}]`. Identical content is stored once; shares count
/// against the agent (`--max-shares-per-agent`, `--share-bytes-per-agent`): past the cap the call fails
/// with `SHARE_QUOTA_EXCEEDED`.
public struct FileShareTool: Tool {
    public struct Input: Decodable, Sendable {
        var path: String
        var expiresIn: Int
    }

    public static let name = "file_share"

    public init() {}

    public func run(_ input: Input, context: ToolContext) async throws -> Envelope {
        guard let shares = context.shares else {
            throw ToolError(.internalError, "Sharing is not available on this server.")
        }
        let record = try await shares.create(path: input.path, in: context.workspace, expiresIn: input.expiresIn)
        var envelope = Envelope(path: record.path, url: shares.url(for: record))
        envelope.extras["expires_at"] = .string(ISO8601DateFormatter().string(from: record.expiresAt))
        envelope.extras["token"] = .string(record.token)
        envelope.extras["size"] = .number(Double(record.size))
        envelope.extras["sha256"] = .string(record.sha256)
        envelope.extras["content_type"] = .string(record.contentType)
        return envelope
    }
}
