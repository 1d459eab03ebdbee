import Foundation

/// Terminal helpers over a real server: exec tokens, the terminal WebSocket and what it printed.
extension TestServer {
    /// Mints an exec token for `agent` (`POST /v1/agents/{id}/exec-token`); the reply.
    func mintToken(_ agent: String, _ body: [String: Any] = [:]) async throws -> Reply {
        try await post("/v1/agents/\(agent)/exec-token", json: body)
    }

    /// A token string, or a failure with the reply.
    func token(_ agent: String, _ body: [String: Any] = [:]) async throws -> String {
        let reply = try await mintToken(agent, body)
        guard reply.status == 200, let token = reply.string("token") else { throw TestFailure("exec-token: \(reply.status) \(reply.text)") }
        return token
    }

    /// Tries to open the terminal without the API key: 101 opens a socket, anything else the HTTP reply.
    func openTerminal(_ agent: String, token: String?, session: String? = nil, protocols: [String]? = nil) throws -> TerminalAttempt {
        var query: [String] = []
        if let token, protocols == nil { query.append("token=\(token)") }
        if let session { query.append("session_id=\(session)") }
        let path = "/v1/agents/\(agent)/terminal" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        let connection = try LoopbackConnection(port: port, timeout: 30)
        var headers = ["Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                       "Sec-WebSocket-Key": Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()]
        if let protocols { headers["Sec-WebSocket-Protocol"] = protocols.joined(separator: ", ") }
        try connection.sendRequest("GET", path, apiKey: "", headers: headers)
        try connection.readResponseHead()
        if connection.status == 101 { return .opened(TerminalScreen(connection: connection)) }
        var body: [UInt8] = []
        while let piece = try connection.readBody() { body += piece }
        let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        return .refused(status: connection.status, code: json["error_code"] as? String, body: String(decoding: body, as: UTF8.self))
    }
}

enum TerminalAttempt {
    case opened(TerminalScreen)
    case refused(status: Int, code: String?, body: String)

    var screen: TerminalScreen? { if case .opened(let screen) = self { screen } else { nil } }
    var refusal: (status: Int, code: String?)? { if case .refused(let status, let code, _) = self { (status, code) } else { nil } }
}

/// One terminal WebSocket: raw output collected as text, JSON control messages apart.
final class TerminalScreen: @unchecked Sendable {
    let connection: LoopbackConnection
    private(set) var output: [UInt8] = []
    private(set) var controls: [[String: Any]] = []
    private(set) var closeCode: Int?
    private let socket: WebSocketClient

    init(connection: LoopbackConnection) {
        self.connection = connection
        socket = WebSocketClient(connection: connection)
    }

    var text: String { String(decoding: output, as: UTF8.self) }

    /// The first control message (`{"type":"session",…}`), once received.
    var hello: [String: Any]? { controls.first { $0["type"] as? String == "session" } }

    func type(_ text: String) throws { try socket.send(binary: Array(text.utf8)) }
    func send(json: String) throws { try socket.send(text: json) }

    /// Reads until `condition` holds on the output so far, or the socket closes (then throws).
    @discardableResult
    func read(until condition: (String) -> Bool) throws -> String {
        while !condition(text) {
            guard closeCode == nil else { throw TestFailure("terminal closed (\(closeCode!)) before the expected output; got:\n\(text)") }
            try step()
        }
        return text
    }

    /// Reads until the server closes the socket; its close code.
    func readToClose() throws -> Int {
        while closeCode == nil { try step() }
        return closeCode!
    }

    func close() { socket.close() }

    private func step() throws {
        switch try socket.receive() {
        case .binary(let bytes): output += bytes
        case .text(let text): controls.append(((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]) ?? ["raw": text])
        case .close(let code, _): closeCode = code
        }
    }
}

/// Whether `pid`'s command line is exactly `words`.
func commandLine(of pid: Int32) -> [String] {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
    return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
}
