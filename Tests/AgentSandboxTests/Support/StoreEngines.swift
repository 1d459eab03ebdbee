#if canImport(Glibc)
import Glibc
#endif
@testable import AgentSandbox
import Foundation
import Logging
import Testing

/// The engines every store behaviour runs against (`@Test(arguments: StoreEngine.all)`): SQLite always,
/// PostgreSQL whenever its binaries exist (and always under CI, where a missing one fails the case).
enum StoreEngine: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    static var all: [StoreEngine] { TestPostgres.shouldRun ? [.sqlite, .postgres] : [.sqlite] }
    var testDescription: String { rawValue }
}

/// One database of an engine, and stores opened on it (several nodes share a PostgreSQL database;
/// SQLite is one node). `close()` releases the stores and deletes the database.
final class StoreFixture: @unchecked Sendable {
    let engine: StoreEngine
    /// The SQLite file, or the PostgreSQL database URL.
    let location: String
    private let postgres: TestPostgres?
    private var opened: [any SandboxStore] = []

    static let uids: ClosedRange<Int64> = 700_000...700_009

    init(_ engine: StoreEngine) async throws {
        self.engine = engine
        switch engine {
        case .sqlite:
            location = TestServer.makeDataRoot().deletingLastPathComponent().appendingPathComponent("store.sqlite").path
            postgres = nil
        case .postgres:
            let server = try await TestPostgres.shared()
            location = try server.makeDatabase()
            postgres = server
        }
    }

    /// A store on this database acting for `node` (PostgreSQL; SQLite has no nodes).
    func open(node: String = "node-a") async throws -> any SandboxStore {
        let store: any SandboxStore
        switch engine {
        case .sqlite:
            store = try SQLiteStore(path: location)
        case .postgres:
            var logger = Logger(label: "store-test")
            logger.logLevel = .warning
            // 120 s, not the server's 15: in the parallel pool of `scripts/test` on a 2-core box, every
            // PostgreSQL case connects and migrates at once.
            store = try await PostgresStore.connect(url: location, nodeID: node, node: NodeRegistration(id: node), timeout: 120, logger: logger)
        }
        opened.append(store)
        return store
    }

    /// Runs SQL on the database directly (sqlite3 / psql): to reach past the store, to the schema.
    @discardableResult
    func sql(_ statement: String) throws -> String {
        switch engine {
        case .sqlite:
            let result = try ArchiveSupport.shell("sqlite3 -bail '\(location)' <<'SQL'\nPRAGMA foreign_keys = ON;\n\(statement)\nSQL")
            guard result.status == 0 else { throw TestFailure("sqlite3 failed: \(result.output)") }
            return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        case .postgres:
            return try postgres!.psql(statement, database: location)
        }
    }

    func close() async {
        for store in opened { await store.close() }
        opened = []
        // The fixture's own temp dir (/tmp/agent-sandbox-test.XXXXXX), never anything above it.
        let directory = URL(fileURLWithPath: location).deletingLastPathComponent().path
        if engine == .sqlite, directory.hasPrefix("/tmp/agent-sandbox-test.") { try? FileManager.default.removeItem(atPath: directory) }
    }
}

/// Records for the store tests (whole seconds: both engines keep them exactly).
enum StoreSamples {
    static let now = Date(timeIntervalSince1970: TimeInterval(Int(Date().timeIntervalSince1970)))

    static func session(_ id: String = UUID().uuidString, agent: String, state: String = "running", startedAt: Date = now) -> ExecSessionRecord {
        ExecSessionRecord(id: id, agentId: agent, command: "sleep 1", cwd: "/", pid: 42, background: false, state: state,
                          exitCode: nil, signal: nil, timedOut: false, startedAt: startedAt, finishedAt: nil)
    }

    static func share(agent: String, content: String, expiresIn: TimeInterval = 3600, legacyFile: String? = nil) -> ShareRecord {
        ShareRecord(token: UUID().uuidString, agentId: agent, path: "f.txt", filename: "f.txt", size: Int64(content.utf8.count),
                    sha256: SHA256Hasher.hex(content), contentType: "text/plain", createdAt: now, expiresAt: now.addingTimeInterval(expiresIn),
                    legacyFile: legacyFile)
    }

    static func snapshot(agent: String, size: Int64 = 10, createdAt: Date = now) -> SnapshotRecord {
        let id = UUID().uuidString.lowercased()
        return SnapshotRecord(id: id, agentId: agent, name: nil, size: size, entries: 1, uncompressedBytes: size, blobKey: "\(agent)/\(id)", createdAt: createdAt)
    }

    static let roomyShares = ShareQuota(maxShares: 100, maxBytes: 1 << 30)
    static let roomySnapshots = SnapshotQuota(maxSnapshots: 100, maxBytes: 1 << 30)
}
