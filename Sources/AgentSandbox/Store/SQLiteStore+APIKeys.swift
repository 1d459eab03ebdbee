import Foundation
import GRDB

/// Listing and revoking API keys (`agent-sandbox key list|revoke`). Only hashes are stored, so a
/// listing can show a key's id, label and creation time, never the key.
extension SQLiteStore {
    /// Every stored key, oldest first.
    public func apiKeys() async throws -> [APIKeyRecord] {
        try await pool.read { db in try APIKeyRecord.order(Column("id")).fetchAll(db) }
    }

    /// Deletes the key with `id`; false when there is none. A running server stops accepting it at
    /// its next key refresh (`APIKeyAuthority.runRefreshLoop`).
    public func deleteAPIKey(id: Int64) async throws -> Bool {
        try await pool.write { db in try APIKeyRecord.deleteOne(db, key: id) }
    }
}
