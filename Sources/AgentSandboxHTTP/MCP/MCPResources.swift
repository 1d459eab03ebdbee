import AgentSandbox
import Foundation
import MCP

/// The agent's workspace files as MCP resources (`workspace:///<path>`), so a client can attach a file
/// without a tool call. Listing is `glob **` and reading is `file_read`, both through the call pipeline
/// (`MCPCallPort`): the same path safety, ownership checks, audit and limits as the tools.
struct MCPResources: Sendable {
    let port: MCPCallPort
    let agent: AgentID

    static let scheme = "workspace://"
    /// Resources per `resources/list` page.
    static let pageSize = 100
    /// Files listed at most (the newest ones: glob's own cap).
    static let listCap = 50_000
    /// Bytes one `resources/read` returns at most (file_read pages of 256 KiB are joined up to this).
    static let readCap = 8 << 20

    /// One page of the workspace's files, sorted by path; the cursor is the offset of the next page.
    func list(cursor: String?) async throws -> ListResources.Result {
        let offset = try cursor.map { cursor throws(MCPError) in
            guard let offset = Int(cursor), offset >= 0 else { throw MCPError.invalidParams("Unknown cursor '\(cursor.prefix(32))': pass the nextCursor of the previous page.") }
            return offset
        } ?? 0
        let envelope = try await port.call(agent: agent, tool: "glob", input: ["pattern": "**", "max_results": .number(Double(Self.listCap))])
        if envelope.status == .error { throw MCPError.internalError(envelope.error) }
        let paths = (envelope.matches ?? []).compactMap(\.stringValue).sorted()
        let page = paths.dropFirst(offset).prefix(Self.pageSize)
        let resources = page.map { path in
            Resource(name: path, uri: Self.uri(for: path), mimeType: ContentType.of(filename: (path as NSString).lastPathComponent))
        }
        let next = offset + page.count < paths.count ? String(offset + page.count) : nil
        return ListResources.Result(resources: resources, nextCursor: next)
    }

    /// The file `uri` names: text when it is text, else base64 `blob`; at most `readCap` bytes.
    func read(uri: String) async throws -> ReadResource.Result {
        let path = try Self.path(of: uri)
        let mime = ContentType.of(filename: (path as NSString).lastPathComponent)
        var encoding = "utf-8"
        var bytes: [UInt8] = []
        var start = 1
        while true {
            let input: JSONValue = ["path": .string(path), "start_line": .number(Double(start)), "encoding": .string(encoding)]
            let envelope = try await port.call(agent: agent, tool: "file_read", input: input)
            if envelope.status == .error {
                if envelope.extras["error_code"] == "BINARY_FILE", encoding == "utf-8" {
                    encoding = "base64"
                    continue
                }
                if envelope.extras["error_code"] == "LINE_OUT_OF_RANGE", start > 1 { break }
                throw MCPError.invalidParams(envelope.error)
            }
            let page = encoding == "base64" ? Array(Data(base64Encoded: envelope.content ?? "") ?? Data()) : Array((envelope.content ?? "").utf8)
            bytes += page
            guard envelope.extras["truncated"] == .bool(true), bytes.count < Self.readCap, !page.isEmpty else { break }
            start += page.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        }
        let content: Resource.Content = encoding == "base64"
            ? .binary(Data(bytes), uri: uri, mimeType: mime)
            : .text(String(decoding: bytes, as: UTF8.self), uri: uri, mimeType: mime)
        return ReadResource.Result(contents: [content])
    }

    static func uri(for path: String) -> String {
        scheme + "/" + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path)
    }

    /// The workspace path of a `workspace:///…` URI (the tools then check it stays inside).
    static func path(of uri: String) throws(MCPError) -> String {
        guard uri.hasPrefix(scheme + "/"), let path = String(uri.dropFirst(scheme.count + 1)).removingPercentEncoding, !path.isEmpty else {
            throw MCPError.invalidParams("Unknown resource '\(uri.prefix(128))': workspace files are named workspace:///<path relative to the workspace root>.")
        }
        return path
    }
}
