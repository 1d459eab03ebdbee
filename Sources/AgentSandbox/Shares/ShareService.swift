#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SandboxKernel

/// Publishes, lists, revokes and expires shares: content-addressed blobs in the root-only share store
/// (`<state>/shares/`, see `ShareBlobStore`) plus their rows in SQLite, counted against the agent
/// (`ShareQuota`).
///
/// ```swift
/// let share = try await services.shares.create(path: "out/report.pdf", in: workspace, expiresIn: 3600)
/// services.shares.url(for: share)  // "http://127.0.0.1:8080/s/<token>/report.pdf"
/// ```
public struct ShareService: Sendable {
    let store: any SandboxStore
    let configuration: ServerConfiguration
    /// Default and largest lifetime, seconds.
    public static let defaultLifetime = 7 * 24 * 3600
    public static let maxLifetime = 30 * 24 * 3600

    public init(store: any SandboxStore, configuration: ServerConfiguration) {
        self.store = store
        self.configuration = configuration
    }

    /// The share store directory.
    public var directory: String { configuration.stateDirectory.appendingPathComponent("shares").path }
    var blobs: ShareBlobStore { ShareBlobStore(root: directory) }
    /// The per-agent cap every new share is checked against.
    public var quota: ShareQuota { ShareQuota(configuration.limits) }

    /// The file a share's download reads: its blob, or its pre-v7 snapshot until that is adopted.
    public func blobPath(_ record: ShareRecord) -> String {
        record.legacyFile.map(blobs.legacyPath) ?? blobs.path(of: record.sha256)
    }

    /// Snapshots the workspace file `rawPath` and records a share of it expiring in `expiresIn` seconds.
    /// Throws `SHARE_QUOTA_EXCEEDED` when the agent's shares are at their cap.
    public func create(path rawPath: String, in workspace: Workspace, expiresIn: Int) async throws -> ShareRecord {
        // The lifetime counts from the call, not from the end of a long copy.
        let now = Date()
        let relative = try workspace.paths.relative(rawPath, field: "path")
        let lifetime = min(max(expiresIn, 1), Self.maxLifetime)
        let (agent, blobs, quota) = (workspace.agent.id.rawValue, self.blobs, self.quota)
        try blobs.prepare()
        try await removeExpired()
        // Early checks, so that an agent at its cap costs no copy; the transaction below decides exactly.
        let usage = try await store.shareUsage(agent: agent)
        try quota.check(usage, newBytes: 0, agent: agent)
        let sharedSizes = try await store.sharedSizes(agent: agent)
        let temporary = blobs.newTemporaryPath()
        let owner = configuration.launchIdentity(for: workspace.agent.identity)?.uid
        let maxBytes = configuration.limits.shareBytes
        let snapshot = try await BlockingWork.run {
            try ShareSnapshot.take(relative, display: rawPath, from: workspace, owner: owner, maxBytes: maxBytes, to: temporary) { size in
                // Content the agent already shares adds nothing: a file of such a size is copied and hashed first.
                if !sharedSizes.contains(size) { try quota.check(usage, newBytes: size, agent: agent) }
            }
        }
        let filename = String(relative.split(separator: "/").last ?? "file")
        let record = ShareRecord(
            token: Self.newToken(), agentId: agent, path: relative, filename: filename,
            size: snapshot.size, sha256: snapshot.sha256, contentType: ContentType.of(filename: filename),
            createdAt: now, expiresAt: now.addingTimeInterval(Double(lifetime)))
        do {
            try await store.insertShare(record, quota: quota) { try blobs.place(temporary: temporary, sha256: snapshot.sha256) }
        } catch {
            unlink(temporary)
            throw error
        }
        return record
    }

    /// The absolute download URL of a share.
    public func url(for record: ShareRecord) -> String {
        let name = record.filename.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? "file"
        return "\(configuration.shareBaseURL)/s/\(record.token)/\(name)"
    }

    /// The share behind `token` if it is live; an expired one is removed on the way.
    public func lookup(token: String) async throws -> ShareRecord? {
        guard token.utf8.count == 43, let record = try await store.share(token: token) else { return nil }
        if record.expiresAt <= Date() {
            try await removeExpired()
            return nil
        }
        return record
    }

    public func list(agent: AgentID) async throws -> [ShareRecord] {
        try await store.liveShares(agent: agent.rawValue)
    }

    /// How many shares the agent holds and the bytes of distinct content they keep on disk.
    public func usage(agent: AgentID) async throws -> ShareUsage {
        try await store.shareUsage(agent: agent.rawValue)
    }

    /// Revokes one share of `agent`; false when it has no such share. Its blob goes with its last share.
    public func revoke(token: String, agent: AgentID) async throws -> Bool {
        try await removing { try await store.deleteShare(token: token, agent: agent.rawValue, retire: $0) } != nil
    }

    /// Revokes every share of `agent` (agent deletion).
    public func revokeAll(agent: AgentID) async throws {
        _ = try await removing { try await store.deleteShares(agent: agent.rawValue, retire: $0) }
    }

    /// Removes the expired shares and the blobs only they used; returns how many shares went.
    @discardableResult
    public func removeExpired() async throws -> Int {
        try await removing { try await store.deleteExpiredShares(retire: $0) }.count
    }

    /// Removes expired shares, then files of the share store that nothing refers to and that are older
    /// than an hour (a snapshot being written has no row yet); returns how many files went.
    @discardableResult
    public func sweepExpired() async throws -> Int {
        var removed = 0
        let batch = TrashBatch()
        let blobs = self.blobs
        _ = try await removing(batch) { try await store.deleteExpiredShares(retire: $0) }
        removed += batch.count
        let (known, legacy) = (try await store.shareBlobHashes(), try await store.legacyShareFiles())
        let cutoff = Date().addingTimeInterval(-3600)
        removed += try await BlockingWork.run { blobs.sweepOrphans(knownBlobs: known, legacyFiles: legacy, olderThan: cutoff) }
        return removed
    }

    /// Sweeps every `interval` seconds until cancelled.
    public func runSweepLoop(interval: Double = 300) async {
        while !Task.isCancelled {
            _ = try? await sweepExpired()
            try? await Task.sleep(for: .seconds(interval))
        }
    }

    /// Runs a removal whose freed files move to the trash inside its transaction; unlinks them once it
    /// committed, puts them back if it failed.
    func removing<T: Sendable>(_ batch: TrashBatch = TrashBatch(), _ body: (@escaping @Sendable (FreedShareFiles) throws -> Void) async throws -> T) async throws -> T {
        let blobs = self.blobs
        let result: T
        do {
            result = try await body { freed in blobs.retire(freed, into: batch) }
        } catch {
            batch.restore()
            throw error
        }
        if batch.count > 0 { try await BlockingWork.run { batch.purge() } }
        return result
    }

    /// 256 random bits, base64url without padding (43 characters).
    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<4).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    public static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
