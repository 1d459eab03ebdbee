import Foundation
import SandboxKernel
import Logging
import PostgresNIO

/// The cluster's store: the same operations as `SQLiteStore`, in a PostgreSQL database shared by every
/// node (postgres-nio's `PostgresClient`, a connection pool). Constructed with the node it acts for:
/// uids are allocated per node (`UNIQUE(node_id, uid)`, one uid cursor per node) and the operations
/// that act on this machine's disk or processes see only this node's agents (see `SandboxStore`).
///
/// ```swift
/// let store = try await PostgresStore.connect(url: "postgres://sandbox@db:5432/sandbox", nodeID: "n1", logger: logger)
/// defer { Task { await store.close() } }
/// ```
public final class PostgresStore: SandboxStore {
    public let node: String
    public var nodeID: String? { node }
    let client: PostgresClient
    let logger: Logger
    /// Runs the pool (`PostgresClient.run`) until `close()`.
    private let runner: Task<Void, Never>

    private init(client: PostgresClient, node: String, logger: Logger) {
        self.client = client
        self.node = node
        self.logger = logger
        runner = Task { await client.run() }
    }

    /// Connects to the database at `url` (`postgres://user[:password]@host[:port]/database`), migrates it
    /// and, given `registration`, registers the node in `nodes` (so its agents' foreign key holds; nil for
    /// a tool that only reads or writes cluster-wide rows, such as `key create`). Throws
    /// `ConfigurationError` naming `flag` for a bad URL or a database that cannot be reached within
    /// `timeout` seconds.
    public static func connect(
        url: String, nodeID: String, node registration: NodeRegistration? = nil, flag: String = "--cluster",
        timeout: Double = 15, logger: Logger
    ) async throws -> PostgresStore {
        let target = try PostgresURL(url, flag: flag)
        guard !nodeID.isEmpty, nodeID.count <= 64, nodeID.allSatisfy({ $0.isLetter || $0.isNumber || "-_".contains($0) }), !nodeID.contains(".") else {
            throw ConfigurationError("--node-id must be 1 to 64 letters, digits, '-' or '_' (it prefixes agent ids as NODE.UUID), not \"\(nodeID)\".")
        }
        var options = PostgresClient.Configuration.Options()
        options.connectTimeout = .seconds(Int64(max(1, timeout)))
        options.maximumConnections = 16
        // postgres-nio logs each failed connection attempt and pool event (a dozen lines for one unreachable
        // server); its failures reach us as thrown errors, said once in our own words.
        var quiet = logger
        quiet.logLevel = .critical
        let client = PostgresClient(configuration: target.configuration(options: options), backgroundLogger: quiet)
        let store = PostgresStore(client: client, node: nodeID, logger: quiet)
        do {
            try await withDeadline(seconds: timeout) {
                try await store.migrate()
                if let registration { try await store.registerNode(registration) }
            }
        } catch {
            await store.close()
            throw ConfigurationError("cannot use the PostgreSQL database \(target.display) given by \(flag): \(PostgresStore.describe(error)). Check that the server runs, listens there and lets this user in.")
        }
        return store
    }

    public func close() async {
        runner.cancel()
        _ = await runner.value
    }

    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws).
    func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            // The closure's own error (a quota's ToolError) rather than postgres-nio's wrapper.
            if let closureError = error.closureError { throw closureError }
            throw error
        }
    }

    /// Runs `query` and collects its rows decoded as `type`.
    func rows<each Column: PostgresDecodable & Sendable>(
        _ query: PostgresQuery, as type: (repeat each Column).Type, on connection: PostgresConnection? = nil
    ) async throws -> [(repeat each Column)] {
        let sequence = try await run(query, on: connection)
        var result: [(repeat each Column)] = []
        for try await row in sequence.decode((repeat each Column).self) { result.append(row) }
        return result
    }

    /// Sends `query` on `connection` (a transaction's), or on a pooled one.
    private func run(_ query: PostgresQuery, on connection: PostgresConnection?) async throws -> PostgresRowSequence {
        if let connection { return try await connection.query(query, logger: logger) }
        return try await client.query(query, logger: logger)
    }

    /// Runs a one-column `query` and collects its values.
    func values<Column: PostgresDecodable & Sendable>(
        _ query: PostgresQuery, as type: Column.Type, on connection: PostgresConnection? = nil
    ) async throws -> [Column] {
        let sequence = try await run(query, on: connection)
        var result: [Column] = []
        for try await value in sequence.decode(Column.self) { result.append(value) }
        return result
    }

    /// Runs a statement (count touched rows with `RETURNING` and `rows`: postgres-nio does not expose
    /// the command tag).
    func execute(_ query: PostgresQuery, on connection: PostgresConnection? = nil) async throws {
        let sequence = try await run(query, on: connection)
        for try await _ in sequence {}
    }

    /// The server's message for a PostgreSQL error (postgres-nio's `String(reflecting:)` is a dump).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return String(describing: underlying) }
            return "\(error.code)"
        }
        if error is DeadlineExceeded { return "no answer in time" }
        return String(describing: error)
    }

    /// The SQLSTATE of a server error (e.g. "23505", unique violation).
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}

/// A deadline passed (see `withDeadline`).
struct DeadlineExceeded: Error {}

/// Runs `body`, cancelled with `DeadlineExceeded` after `seconds`.
func withDeadline<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw DeadlineExceeded()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
