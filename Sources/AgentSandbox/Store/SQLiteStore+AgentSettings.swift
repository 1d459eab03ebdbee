import GRDB

extension SQLiteStore {
    /// Replaces the agent's settings JSON (nil: none).
    public func setSettings(_ settings: String?, of id: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE agents SET settings = ? WHERE id = ?", arguments: [settings, id])
        }
    }
}
