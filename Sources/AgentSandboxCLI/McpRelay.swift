import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Relays newline-delimited JSON-RPC between stdio and an MCP Streamable HTTP endpoint: each message
/// is POSTed (concurrently, so a cancellation overtakes the call it cancels), replies arrive as SSE or
/// JSON and are written to stdout one per line; after `initialize` the session's GET stream carries the
/// server's notifications (progress). The `Mcp-Session-Id` and protocol version are remembered and sent.
final class McpRelay: @unchecked Sendable {
    let endpoint: URL
    let key: String
    private let http = StreamingHTTPClient()
    private let lock = NSLock()
    private var sessionID: String?
    private var protocolVersion: String?
    private var lastEventID: String?

    init(endpoint: URL, key: String) {
        self.endpoint = endpoint
        self.key = key
    }

    /// Runs until stdin ends; then ends the session on the server.
    func run(lines: AsyncStream<String>) async {
        var stream: Task<Void, Never>?
        await withTaskGroup(of: Void.self) { group in
            for await line in lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                guard let message = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    Stdout.write(Self.errorReply(id: nil, code: -32700, "Parse error: each stdin line must be one JSON-RPC message."))
                    continue
                }
                if message["method"] as? String == "initialize" {
                    // In order: everything after initialize needs its session id.
                    await post(line)
                    if stream == nil, state.session != nil { stream = Task { await self.listen() } }
                } else {
                    group.addTask { await self.post(line) }
                }
            }
            group.cancelAll()
        }
        stream?.cancel()
        await endSession()
    }

    private var state: (session: String?, version: String?) { lock.withLock { (sessionID, protocolVersion) } }

    private func makeRequest(_ method: String) -> URLRequest {
        var request = URLRequest(url: endpoint)
        request.httpMethod = method
        request.setValue(key, forHTTPHeaderField: "x-api-key")
        request.setValue(method == "GET" ? "text/event-stream" : "application/json, text/event-stream", forHTTPHeaderField: "Accept")
        let (session, version) = state
        if let session { request.setValue(session, forHTTPHeaderField: "Mcp-Session-Id") }
        if let version { request.setValue(version, forHTTPHeaderField: "MCP-Protocol-Version") }
        return request
    }

    /// POSTs one message and writes what comes back; failures become JSON-RPC errors for requests.
    private func post(_ line: String) async {
        let message = (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? [:]
        var request = makeRequest("POST")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(line.utf8)
        let id = message["id"]
        let reply = ReplyState()
        let isInitialize = message["method"] as? String == "initialize"
        do {
            try await http.send(request, .init(
                response: { [self] response in
                    reply.start(response)
                    if isInitialize, response.statusCode == 200, let session = response.value(forHTTPHeaderField: "Mcp-Session-Id") {
                        lock.withLock { sessionID = session }
                    }
                },
                data: { [self] data in
                    for event in reply.feed(data) where !event.isEmpty {
                        if isInitialize { noteVersion(event) }
                        Stdout.write(event)
                    }
                }))
        } catch {
            if id != nil { Stdout.write(Self.errorReply(id: id, code: -32603, "Cannot reach the agent-sandbox server at \(endpoint.absoluteString) (\(error.localizedDescription)). Is it running? Check AGENT_SANDBOX_URL.")) }
            return
        }
        guard let id else { return }
        let (status, body, streamed) = reply.result
        if streamed || status == 202 { return }
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], object["error"] != nil || object["result"] != nil {
            var object = object
            if object["id"] == nil || object["id"] is NSNull { object["id"] = id }
            Stdout.write(object)
        } else {
            let text = String(decoding: body.prefix(500), as: UTF8.self)
            Stdout.write(Self.errorReply(id: id, code: -32603, "The server answered HTTP \(status): \(text)"))
        }
    }

    /// The session's GET stream: server notifications, resumed after a drop with `Last-Event-ID`.
    private func listen() async {
        var failures = 0
        while !Task.isCancelled, failures < 5 {
            var request = makeRequest("GET")
            if let last = lock.withLock({ lastEventID }) { request.setValue(last, forHTTPHeaderField: "Last-Event-ID") }
            let reply = ReplyState()
            do {
                try await http.send(request, .init(response: { reply.start($0) }, data: { [self] data in
                    for (id, event) in reply.feedWithIDs(data) {
                        if let id { lock.withLock { lastEventID = id } }
                        if !event.isEmpty { Stdout.write(event) }
                    }
                }))
            } catch {}
            let status = reply.result.status
            if status == 404 || status == 405 || status == 401 { return }
            failures += 1
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func noteVersion(_ event: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any],
              let result = object["result"] as? [String: Any], let version = result["protocolVersion"] as? String else { return }
        lock.withLock { protocolVersion = version }
    }

    private func endSession() async {
        guard state.session != nil else { return }
        let request = makeRequest("DELETE")
        try? await http.send(request, .init(response: { _ in }, data: { _ in }))
    }

    static func errorReply(id: Any?, code: Int, _ message: String) -> [String: Any] {
        ["jsonrpc": "2.0", "id": id ?? NSNull(), "error": ["code": code, "message": message]]
    }
}

/// One response as it arrives: status, content type, SSE events or the collected body.
private final class ReplyState: @unchecked Sendable {
    private let lock = NSLock()
    private var status = 0
    private var sse = false
    private var parser = SSEParser()
    private var body = Data()

    func start(_ response: HTTPURLResponse) {
        lock.withLock {
            status = response.statusCode
            sse = (response.value(forHTTPHeaderField: "Content-Type") ?? "").hasPrefix("text/event-stream")
        }
    }

    func feed(_ data: Data) -> [String] { feedWithIDs(data).map(\.data) }

    func feedWithIDs(_ data: Data) -> [(id: String?, data: String)] {
        lock.withLock {
            guard sse else { body.append(data); return [] }
            return parser.feed(data)
        }
    }

    var result: (status: Int, body: Data, streamed: Bool) { lock.withLock { (status, body, sse) } }
}

/// stdout, one JSON-RPC message per line (writes from several tasks never interleave).
enum Stdout {
    private static let lock = NSLock()

    static func write(_ json: String) {
        var line = json
        if line.contains("\n"), let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)),
           let compact = try? JSONSerialization.data(withJSONObject: object) {
            line = String(decoding: compact, as: UTF8.self)
        }
        lock.withLock { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
    }

    static func write(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object) else { return }
        write(String(decoding: data, as: UTF8.self))
    }
}
