#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A real PostgreSQL server for the tests: `initdb` + `pg_ctl start` in a temp dir, as an unprivileged user,
/// on a free loopback port with trust auth (`scripts/postgres-temp`), started on first use and stopped and
/// deleted when the test process exits. With `AGENT_SANDBOX_TEST_POSTGRES` set (`scripts/with-postgres`),
/// that server is used instead. Each caller gets its own database (`makeDatabase`).
///
/// Present when Debian's postgresql is installed (`scripts/setup` installs it); under `CI=true` it must
/// be: the PostgreSQL cases then run and fail with the reason instead of being left out.
final class TestPostgres: Sendable {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    let adminURL: String
    /// The temp dir of a server this process started (nil: an external one).
    let directory: String?

    static var isInstalled: Bool {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return versions.contains { FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/initdb") }
    }

    /// Whether the PostgreSQL cases run: the binaries exist, a server was given, or this is CI (where
    /// a missing PostgreSQL is a failure, not a skip).
    static var shouldRun: Bool {
        let environment = ProcessInfo.processInfo.environment
        return isInstalled || environment["AGENT_SANDBOX_TEST_POSTGRES"] != nil || environment["CI"] == "true"
    }

    private static let starting = Mutex<Task<TestPostgres, any Error>?>(nil)

    /// The process's server, started on first use (concurrent first callers wait for one start).
    static func shared() async throws -> TestPostgres {
        let task = starting.withLock { current in
            if let current { return current }
            let task = Task { try start() }
            current = task
            return task
        }
        return try await task.value
    }

    private init(adminURL: String, directory: String?) {
        self.adminURL = adminURL
        self.directory = directory
    }

    private static func start() throws -> TestPostgres {
        if let url = ProcessInfo.processInfo.environment["AGENT_SANDBOX_TEST_POSTGRES"] {
            return TestPostgres(adminURL: url, directory: nil)
        }
        guard isInstalled else {
            throw TestFailure("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run scripts/setup, which installs Debian's postgresql")
        }
        let directory = "/tmp/agent-sandbox-pg.\(getpid()).\(UUID().uuidString.prefix(8))"
        let script = TestServer.repositoryRoot.appendingPathComponent("scripts/postgres-temp").path
        let result = try ArchiveSupport.shell("bash '\(script)' start '\(directory)' 2>&1")
        guard result.status == 0, let url = result.output.split(separator: "\n").last.map(String.init), url.hasPrefix("postgres://") else {
            _ = try? ArchiveSupport.shell("bash '\(script)' stop '\(directory)'")
            throw TestFailure("could not start a test PostgreSQL (scripts/postgres-temp start): \(result.output)")
        }
        stopAtExit(script: script, directory: directory)
        return TestPostgres(adminURL: url, directory: directory)
    }

    private static let stopCommand = Mutex<String?>(nil)

    private static func stopAtExit(script: String, directory: String) {
        stopCommand.withLock { $0 = "bash '\(script)' stop '\(directory)' >/dev/null 2>&1" }
        atexit {
            if let command = TestPostgres.stopCommand.withLock({ $0 }) { _ = system(command) }
        }
    }

    /// `adminURL` with another database name.
    func url(database: String) -> String {
        guard var components = URLComponents(string: adminURL) else { return adminURL }
        components.path = "/" + database
        return components.string ?? adminURL
    }

    /// A new, empty database; returns its URL.
    func makeDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try psql("CREATE DATABASE \(name)")
        return url(database: name)
    }

    /// Runs SQL through `psql` on `database` (default: the admin database); returns its output.
    @discardableResult
    func psql(_ sql: String, database: String? = nil) throws -> String {
        let target = database ?? adminURL
        let result = try ArchiveSupport.shell("psql -X -q -tA -v ON_ERROR_STOP=1 '\(target)' <<'SQL'\n\(sql)\nSQL")
        guard result.status == 0 else { throw TestFailure("psql failed: \(result.output)") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
