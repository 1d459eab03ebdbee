import Foundation

/// Exec-session records, so a restarted server lists its predecessor's sessions as `lost`.
public protocol ExecSessionStore: Sendable {
    func insertExecSession(_ record: ExecSessionRecord) async throws
    /// Records how a session ended (no-op when the row is gone).
    func finishExecSession(_ record: ExecSessionRecord) async throws
    /// At start-up: this node's `running` sessions become `lost`; returns how many.
    @discardableResult
    func markRunningExecSessionsLost(at date: Date) async throws -> Int
    /// The agent's sessions, oldest first.
    func execSessions(agent: String) async throws -> [ExecSessionRecord]
    func execSession(id: String) async throws -> ExecSessionRecord?
    func deleteExecSessions(ids: [String]) async throws
    func deleteExecSessions(agent: String) async throws
    /// Forgets this node's finished (or lost) sessions that ended before `date`.
    func deleteExecSessions(finishedBefore date: Date) async throws
}

/// Blob hashes and pre-v7 snapshot files that a removal freed, to be moved out of the share store.
public struct FreedShareFiles: Sendable {
    public var blobs: [String]
    public var legacyFiles: [String]
    public var isEmpty: Bool { blobs.isEmpty && legacyFiles.isEmpty }

    public init(blobs: [String], legacyFiles: [String]) {
        self.blobs = blobs
        self.legacyFiles = legacyFiles
    }
}

/// Shares and their reference-counted content blobs. Every removal hands the files it frees to `retire`
/// inside the transaction (see `SQLiteStore+Shares.swift`); blobs are per node (their files are on its disk).
public protocol ShareStore: Sendable {
    /// Records the share if it fits `quota`, calling `place` (to put the blob file in place) inside the
    /// transaction; `SHARE_QUOTA_EXCEEDED` without calling `place` when it does not fit.
    func insertShare(_ record: ShareRecord, quota: ShareQuota, place: @escaping @Sendable () throws -> Void) async throws
    func shareUsage(agent: String) async throws -> ShareUsage
    /// The sizes of the contents the agent already shares.
    func sharedSizes(agent: String) async throws -> Set<Int64>
    /// The share with `token`, expired or not.
    func share(token: String) async throws -> ShareRecord?
    /// The agent's shares that have not expired at `now`, newest first.
    func liveShares(agent: String, now: Date) async throws -> [ShareRecord]
    func deleteShare(token: String, agent: String, retire: @escaping @Sendable (FreedShareFiles) throws -> Void) async throws -> ShareRecord?
    func deleteShares(agent: String, retire: @escaping @Sendable (FreedShareFiles) throws -> Void) async throws -> [ShareRecord]
    /// Deletes this node's shares expired at `now`; returns them.
    func deleteExpiredShares(now: Date, retire: @escaping @Sendable (FreedShareFiles) throws -> Void) async throws -> [ShareRecord]
    /// This node's shares whose snapshot is still a pre-v7 file.
    func legacyShares() async throws -> [ShareRecord]
    /// Marks a pre-v7 share as served from its blob.
    func markAdopted(token: String) async throws
    /// Every blob hash this node's store knows.
    func shareBlobHashes() async throws -> Set<String>
    /// This node's pre-v7 snapshot files still in use.
    func legacyShareFiles() async throws -> Set<String>
}

/// Snapshot rows (their archives are in a `SnapshotBlobStore`).
public protocol SnapshotStore: Sendable {
    /// Records the snapshot if the agent's snapshots still fit `quota` with it, in one transaction.
    func insertSnapshot(_ record: SnapshotRecord, quota: SnapshotQuota) async throws
    /// The agent's snapshots, oldest first.
    func snapshots(agent: String) async throws -> [SnapshotRecord]
    func snapshot(id: String) async throws -> SnapshotRecord?
    /// Deletes the row; returns it, nil when the agent has no such snapshot.
    func deleteSnapshot(id: String, agent: String) async throws -> SnapshotRecord?
    func deleteSnapshots(agent: String) async throws -> [SnapshotRecord]
    func snapshotUsage(agent: String) async throws -> SnapshotUsage
    /// Every blob key of this node's snapshots.
    func snapshotBlobKeys() async throws -> Set<String>
}

/// Public preview links (`/p/{token}/…`), keyed by the SHA-256 of their token.
public protocol PreviewLinkStore: Sendable {
    func insertPreviewLink(_ record: PreviewLinkRecord) async throws
    func previewLink(id: String) async throws -> PreviewLinkRecord?
    /// Marks the agent's link `id` revoked; false when it has no such live link.
    func revokePreviewLink(id: String, agent: String, at now: Date) async throws -> Bool
    /// The agent's links that are neither revoked nor expired, newest first.
    func livePreviewLinks(agent: String, at now: Date) async throws -> [PreviewLinkRecord]
}

extension ExecSessionStore {
    @discardableResult
    public func markRunningExecSessionsLost() async throws -> Int { try await markRunningExecSessionsLost(at: Date()) }
}

extension ShareStore {
    public func liveShares(agent: String) async throws -> [ShareRecord] { try await liveShares(agent: agent, now: Date()) }
    public func deleteExpiredShares(retire: @escaping @Sendable (FreedShareFiles) throws -> Void) async throws -> [ShareRecord] {
        try await deleteExpiredShares(now: Date(), retire: retire)
    }
}
