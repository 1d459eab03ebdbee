/// A store that announces changes to its API keys (PostgreSQL: `LISTEN`/`NOTIFY`), so that every server
/// of a cluster re-reads its keys when one is created or revoked instead of polling the table.
public protocol APIKeyChangeFeed: Sendable {
    /// Calls `changed` once listening has begun (a change made before that is read then), and after
    /// every change to the stored keys, until the task is cancelled; throws when the connection fails.
    func followAPIKeyChanges(_ changed: @escaping @Sendable () async -> Void) async throws
}
