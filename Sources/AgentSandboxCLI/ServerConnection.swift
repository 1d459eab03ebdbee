import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The server could not be reached: one sentence naming the URL and how to point the CLI elsewhere,
/// instead of a transport error dump (`NSURLErrorDomain`, errno).
struct UnreachableServer: Error, CustomStringConvertible {
    let description: String

    init(url: String, reason: String) {
        let cause = reason.hasSuffix(".") ? String(reason.dropLast()) : reason
        description = "Cannot reach the agent-sandbox server at \(url) (\(cause)). Start it with `agent-sandbox serve`, or point --url (or AGENT_SANDBOX_URL) at the running server."
    }
}

extension ServerOptions {
    /// Runs `body` (a request to the server), turning a transport failure into `UnreachableServer`.
    func reaching<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as UnreachableServer {
            throw error
        } catch let error as URLError {
            throw UnreachableServer(url: url, reason: error.localizedDescription)
        }
    }

    /// Sends one JSON request (`body` as is) to the running server; returns the status and body.
    func fetch(_ method: String, _ path: String, body: Data? = nil) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: try endpoint(path))
        request.httpMethod = method
        request.setValue(try key(), forHTTPHeaderField: "x-api-key")
        request.timeoutInterval = 3700
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await reaching { try await URLSession.shared.data(for: request) }
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// Sends one JSON request and prints the reply body; a status of 400 or more is an error.
    func send(_ method: String, _ path: String, body: Data? = nil) async throws {
        let reply = try await fetch(method, path, body: body)
        print(String(decoding: reply.body, as: UTF8.self))
        if reply.status >= 400 { throw ServerError(status: reply.status, body: reply.body) }
    }
}
