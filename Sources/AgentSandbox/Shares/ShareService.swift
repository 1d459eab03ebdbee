#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Publishes, lists, revokes and expires shares: snapshot files in the root-only share store
/// (`<state>/shares/`, 0700) plus their rows in SQLite.
///
/// ```swift
/// let share = try await services.shares.create(path: "out/report.pdf", in: workspace, expiresIn: 3600)
/// services.shares.url(for: share)  // "http://127.0.0.1:8080/s/<token>/report.pdf"
/// ```
public struct ShareService: Sendable {
    let store: Store
    let configuration: ServerConfiguration
    /// Default and largest lifetime, seconds.
    public static let defaultLifetime = 7 * 24 * 3600
    public static let maxLifetime = 30 * 24 * 3600

    public init(store: Store, configuration: ServerConfiguration) {
        self.store = store
        self.configuration = configuration
    }

    /// The share store directory.
    public var directory: String { configuration.stateDirectory.appendingPathComponent("shares").path }

    public func blobPath(_ record: ShareRecord) -> String { directory + "/" + record.blob }

    /// Snapshots the workspace file `rawPath` and records a share of it expiring in `expiresIn` seconds.
    public func create(path rawPath: String, in workspace: Workspace, expiresIn: Int) async throws -> ShareRecord {
        let relative = try workspace.paths.relative(rawPath, field: "path")
        let lifetime = min(max(expiresIn, 1), Self.maxLifetime)
        try ensureDirectory()
        let blob = UUID().uuidString.lowercased()
        let destination = directory + "/" + blob
        let owner = configuration.launchIdentity(for: workspace.agent.identity)?.uid
        let maxBytes = configuration.limits.shareBytes
        let snapshot = try await BlockingWork.run {
            try ShareSnapshot.take(relative, display: rawPath, from: workspace, owner: owner, maxBytes: maxBytes, to: destination)
        }
        let filename = String(relative.split(separator: "/").last ?? "file")
        let now = Date()
        let record = ShareRecord(
            token: Self.newToken(), agentId: workspace.agent.id.rawValue, path: relative, filename: filename, blob: blob,
            size: snapshot.size, sha256: snapshot.sha256, contentType: ContentType.of(filename: filename),
            createdAt: now, expiresAt: now.addingTimeInterval(Double(lifetime)))
        do {
            try await store.insertShare(record)
        } catch {
            unlink(destination)
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
            _ = try await sweepExpired()
            return nil
        }
        return record
    }

    public func list(agent: AgentID) async throws -> [ShareRecord] {
        try await store.liveShares(agent: agent.rawValue)
    }

    /// Revokes one share of `agent`; false when it has no such share.
    public func revoke(token: String, agent: AgentID) async throws -> Bool {
        guard let record = try await store.deleteShare(token: token, agent: agent.rawValue) else { return false }
        unlink(blobPath(record))
        return true
    }

    /// Revokes every share of `agent` (agent deletion).
    public func revokeAll(agent: AgentID) async throws {
        for record in try await store.deleteShares(agent: agent.rawValue) { unlink(blobPath(record)) }
    }

    /// Removes expired shares and snapshot files no row refers to; returns how many files went.
    @discardableResult
    public func sweepExpired() async throws -> Int {
        var removed = 0
        for record in try await store.deleteExpiredShares() where unlink(blobPath(record)) == 0 { removed += 1 }
        let known = try await store.shareBlobs()
        let cutoff = Date().addingTimeInterval(-3600)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where !known.contains(name) {
            // A snapshot being written has no row yet: only files older than an hour are orphans.
            var info = stat()
            guard lstat(directory + "/" + name, &info) == 0, Double(info.st_mtim.tv_sec) < cutoff.timeIntervalSince1970 else { continue }
            if unlink(directory + "/" + name) == 0 { removed += 1 }
        }
        return removed
    }

    /// Sweeps every `interval` seconds until cancelled.
    public func runSweepLoop(interval: Double = 300) async {
        while !Task.isCancelled {
            _ = try? await sweepExpired()
            try? await Task.sleep(for: .seconds(interval))
        }
    }

    private func ensureDirectory() throws {
        if mkdir(directory, 0o700) != 0, errno != EEXIST {
            throw ToolError(.internalError, "Cannot create the share store \(directory): \(String(cString: strerror(errno))).")
        }
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
