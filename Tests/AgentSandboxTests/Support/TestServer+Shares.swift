import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Share calls, downloads without the API key, and a look at the server's share store on disk.
extension TestServer {
    /// Calls `file_share` for `agent`.
    func share(_ agent: String, _ path: String, _ extra: [String: Any] = [:]) async throws -> Reply {
        try await call("file_share", agent: agent, extra.merging(["path": path]) { a, _ in a })
    }

    /// `GET url` without the API key and without any HTTP cache: status, body, lower-cased headers.
    func download(_ url: String, headers: [String: String] = [:]) async throws -> (status: Int, body: Data, headers: [String: String]) {
        var request = URLRequest(url: URL(string: url)!)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await ShareDownloads.session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (key, value) in http.allHeaderFields { fields[String(describing: key).lowercased()] = String(describing: value) }
        return (http.statusCode, data, fields)
    }

    /// The share store directory (`DATA/.agentsandbox/shares`).
    var shareStore: URL { dataRoot.appendingPathComponent(".agentsandbox/shares") }

    /// The path a blob of `sha256` has in the share store.
    func blobPath(_ sha256: String) -> String { shareStore.path + "/blobs/\(sha256.prefix(2))/\(sha256)" }

    /// Every regular file in the share store (blobs, snapshots being written, anything left over).
    func shareStoreFiles() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: shareStore.path)
        var files: [String] = []
        while let name = enumerator?.nextObject() as? String {
            if (enumerator?.fileAttributes?[.type] as? FileAttributeType) == .typeRegular { files.append(name) }
        }
        return files
    }

    /// The agent's `share_count`, `share_bytes`, `workspace_bytes` and `disk_usage_bytes`.
    func storage(_ agent: String) async throws -> (count: Int?, bytes: Int?, workspace: Int?, total: Int?) {
        let info = try await agentInfo(agent)
        return (info.int("share_count"), info.int("share_bytes"), info.int("workspace_bytes"), info.int("disk_usage_bytes"))
    }
}

enum ShareDownloads {
    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        return URLSession(configuration: configuration)
    }()
}

/// The token in a share URL (`…/s/{token}/{filename}`).
func shareToken(_ url: String) -> String { String(url.split(separator: "/").dropLast().last ?? "") }
