import ArgumentParser
import Foundation

/// `--url` and `--api-key` for the subcommands that talk to a running server.
struct ServerOptions: ParsableArguments {
    @Option(help: "Base URL of the running server (env AGENT_SANDBOX_URL).")
    var url: String = ProcessInfo.processInfo.environment["AGENT_SANDBOX_URL"] ?? "http://127.0.0.1:8080"

    @Option(help: "API key (env AGENT_SANDBOX_API_KEY).")
    var apiKey: String?

    /// The key from the flag or the environment; a usage error when neither is set.
    func key() throws -> String {
        guard let key = apiKey ?? ProcessInfo.processInfo.environment["AGENT_SANDBOX_API_KEY"], !key.isEmpty else {
            throw ValidationError("No API key: pass --api-key or set AGENT_SANDBOX_API_KEY.")
        }
        return key
    }

    /// `URL + path`, without doubling the slash.
    func endpoint(_ path: String) throws -> URL {
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        guard let endpoint = URL(string: base + path), endpoint.scheme != nil else {
            throw ValidationError("Invalid --url '\(url)': expected something like http://127.0.0.1:8080.")
        }
        return endpoint
    }
}
