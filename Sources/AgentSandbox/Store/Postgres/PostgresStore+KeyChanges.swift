import PostgresNIO

/// API-key changes over `LISTEN`/`NOTIFY` (`APIKeyChangeFeed`): migration 4's trigger announces every
/// statement that changes `api_keys` on `apiKeyChannel`; one pooled connection listens.
extension PostgresStore: APIKeyChangeFeed {
    /// The notification channel of API-key changes.
    static let apiKeyChannel = "agent_sandbox_api_keys"

    public func followAPIKeyChanges(_ changed: @escaping @Sendable () async -> Void) async throws {
        try await client.withConnection { connection in
            try await connection.listen(on: Self.apiKeyChannel) { notifications in
                await changed()
                for try await _ in notifications { await changed() }
            }
        }
    }
}
