import Foundation
import SandboxKernel
import PostgresNIO

/// A `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]` URL, parsed
/// into a `PostgresClient.Configuration`. A malformed one is a `ConfigurationError` naming the flag.
struct PostgresURL: Sendable {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var requireTLS: Bool

    init(_ text: String, flag: String) throws {
        let usage = "\(flag) must be a URL such as postgres://user@host:5432/database"
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? ""),
              let host = components.host, !host.isEmpty
        else { throw ConfigurationError("\(usage), not \"\(text)\".") }
        let database = String(components.path.drop { $0 == "/" })
        guard let user = components.user, !user.isEmpty, !database.isEmpty, !database.contains("/") else {
            throw ConfigurationError("\(usage) (a user and a database name are required), not \"\(Self.redacted(text))\".")
        }
        let sslmode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        guard ["disable", "prefer", "allow", "require"].contains(sslmode) else {
            throw ConfigurationError("\(flag): sslmode must be disable, allow, prefer (all three connect without TLS) or require (TLS), not \(sslmode).")
        }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        self.port = components.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database.removingPercentEncoding ?? database
        self.requireTLS = sslmode == "require"
    }

    /// The URL without its password, for messages.
    var display: String { "postgres://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)" }

    func configuration(options: PostgresClient.Configuration.Options) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database,
            tls: requireTLS ? .require(.makeClientConfiguration()) : .disable)
        configuration.options = options
        return configuration
    }

    private static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }
}
