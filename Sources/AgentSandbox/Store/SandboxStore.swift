import Foundation

/// The server's persistent state, behind one protocol with two engines: `SQLiteStore` (GRDB, one file,
/// the single-box default) and `PostgresStore` (postgres-nio, shared by the nodes of a cluster).
///
/// Each concern is its own protocol (agents, API keys, audit, exec sessions, shares, snapshots); a
/// service holds `any SandboxStore`. No engine type (a GRDB `Row` or `Database`, a Postgres row) crosses
/// it: operations take and return plain records. Invariants live in each engine's schema — one uid per
/// live agent (per node in a cluster), foreign keys with `ON DELETE CASCADE` from an agent to its shares,
/// exec sessions and snapshots — and the shared test suite (`StoreContractTests`) runs every operation
/// against both engines.
///
/// Node-local vs cluster-wide (PostgreSQL; SQLite has one node): the operations that look at "all"
/// rows to act on this machine's disk or processes — `liveAgents`, `agentCountByState`,
/// `agentsWithSnapshotsButDeleted`, `provisionAgent`'s uid, `markRunningExecSessionsLost`,
/// `deleteExecSessions(finishedBefore:)`, `deleteExpiredShares`, `legacyShares`, `legacyShareFiles`,
/// `shareBlobHashes`, `snapshotBlobKeys` — see only the agents of the store's node. Lookups by key
/// (`agent(id:)`, `share(token:)`, `execSession(id:)`, `snapshot(id:)`), the per-agent operations, API
/// keys and the audit log are cluster-wide.
///
/// ```swift
/// let store: any SandboxStore = try SQLiteStore(path: configuration.databasePath)
/// let (record, created) = try await store.provisionAgent(id: "3f0c…", uids: 200_000...299_999)
/// ```
public protocol SandboxStore: AgentStore, APIKeyStore, AuditStore, ExecSessionStore, ShareStore, SnapshotStore, PreviewLinkStore {
    /// The node this store acts for in a cluster; nil for the single-box SQLite store.
    var nodeID: String? { get }
    /// Releases the engine's connections (the PostgreSQL pool); the store is not used afterwards.
    func close() async
}

/// Agent rows: identity (uid), lifecycle state and settings.
public protocol AgentStore: Sendable {
    func agent(id: String) async throws -> AgentRecord?
    /// How many of this node's agents are in each state.
    func agentCountByState() async throws -> [String: Int]
    /// This node's live agents (not deleted), oldest first.
    func liveAgents() async throws -> [AgentRecord]
    /// Creates the agent (or revives a deleted one) with the next free uid in `uids` after the last one
    /// handed out on this node, wrapping around. Returns the record and whether this call created it;
    /// of concurrent calls for one id, exactly one creates.
    func provisionAgent(id: String, uids: ClosedRange<Int64>, settings: String?) async throws -> (AgentRecord, created: Bool)
    /// Removes the agent's row outright with its shares, sessions and snapshot rows.
    func forgetAgent(id: String) async throws
    /// Sets the state; `deleted` frees the uid.
    func setState(_ state: AgentRecord.State, of id: String) async throws
    /// Replaces the agent's settings JSON (nil: none).
    func setSettings(_ settings: String?, of id: String) async throws
    /// This node's agents in state `deleted` that still have snapshot rows (a crash during their deletion).
    func agentsWithSnapshotsButDeleted() async throws -> [String]
}

/// Hashed API keys (valid on every node of a cluster).
public protocol APIKeyStore: Sendable {
    func apiKeyHashes() async throws -> [String]
    /// Stores the hash; a hash already stored is left as it is.
    func insertAPIKey(hash: String, name: String) async throws
    /// Every stored key, oldest first.
    func apiKeys() async throws -> [APIKeyRecord]
    /// Deletes the key with `id`; false when there is none.
    func deleteAPIKey(id: Int64) async throws -> Bool
}

/// The audit log of tool calls.
public protocol AuditStore: Sendable {
    /// Appends a batch and bumps each agent's `last_used_at`, in one transaction.
    func recordAudit(_ entries: [AuditEntry]) async throws
    /// The agent's entries in the order they were recorded.
    func auditEntries(agent: String) async throws -> [AuditEntry]
}

extension AgentStore {
    public func provisionAgent(id: String, uids: ClosedRange<Int64>) async throws -> (AgentRecord, created: Bool) {
        try await provisionAgent(id: id, uids: uids, settings: nil)
    }
}
