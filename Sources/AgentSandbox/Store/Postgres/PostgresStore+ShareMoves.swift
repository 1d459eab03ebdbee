import Foundation
import PostgresNIO

/// A move's shares (`AgentMoveStore`): the node an agent moves to takes over the content of its shares,
/// so they keep working after the node it left is drained and stopped. Each share changes publisher in
/// one transaction, with its blob row and file in place first; the share-count trigger moves the
/// reference from the old node's blob to this node's.
extension PostgresStore {
    public func adoptShare(_ record: ShareRecord, place: @escaping @Sendable () throws -> Void) async throws {
        try await transaction { connection in
            try await lockShares(connection)
            let current = try await values("""
                SELECT node_id FROM shares
                WHERE token = \(record.token) AND agent_id = \(record.agentId) AND sha256 = \(record.sha256) AND size = \(record.size)
                  AND legacy_file IS NULL
                FOR UPDATE
                """, as: String.self, on: connection).first
            guard let current else {
                throw ToolError(.notFound, "Agent \(record.agentId) has no such share any more (it was revoked, or it expired); nothing to copy.")
            }
            guard current != node else { return }
            try await execute("""
                INSERT INTO share_blobs (node_id, sha256, size, refs, created_at) VALUES (\(node), \(record.sha256), \(record.size), 0, now())
                ON CONFLICT (node_id, sha256) DO NOTHING
                """, on: connection)
            try place()
            try await execute("UPDATE shares SET node_id = \(node) WHERE token = \(record.token)", on: connection)
        }
    }

    public func pruneShareBlobs(retire: @escaping @Sendable (FreedShareFiles) throws -> Void) async throws -> Int {
        try await transaction { connection in
            try await lockShares(connection)
            let blobs = try await values("DELETE FROM share_blobs WHERE node_id = \(node) AND refs = 0 RETURNING sha256", as: String.self, on: connection)
            if !blobs.isEmpty { try retire(FreedShareFiles(blobs: blobs, legacyFiles: [])) }
            return blobs.count
        }
    }
}
