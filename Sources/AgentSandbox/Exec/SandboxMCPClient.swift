import Foundation

/// An MCP client for one stdio MCP server that runs inside an agent's sandbox as an exec session (the
/// agent's uid, cgroup and namespaces; killed with the agent): newline-delimited JSON-RPC 2.0 written to
/// the session's stdin and read from its stdout.
///
/// ```swift
/// let client = SandboxMCPClient(session: session)
/// try await client.initialize(timeout: 30)
/// let tools = try await client.listTools(timeout: 30)
/// let result = try await client.callTool("add", arguments: ["a": 1, "b": 2], timeout: 30)
/// ```
///
/// Concurrent requests are matched to their answers by id. Requests the server sends (`ping`,
/// `roots/list` …) are answered: an empty result for `ping`, "method not found" for the rest.
/// Every failure is a `ToolError` with a sentence: `EXEC_FAILED` (the server exited or spoke something
/// other than JSON-RPC), `TIMEOUT`.
public actor SandboxMCPClient {
    public let session: ExecSession
    private var cursor = ExecCursor()
    private var line: [UInt8] = []
    /// The last bytes the server wrote to stderr (quoted when it fails).
    private var stderrTail: [UInt8] = []
    private var answers: [Int: JSONValue] = [:]
    private var nextID = 1
    private var protocolFault: String?
    private var timedOut = false
    public private(set) var initialized = false

    /// Whether the server can take more requests: running, never timed out, never broke the protocol.
    public var isHealthy: Bool { protocolFault == nil && !timedOut && session.isRunning }

    /// The longest line accepted from the server (a tools/list of a large server fits easily).
    static let lineLimit = 16 << 20
    public static let protocolVersion = "2025-06-18"

    public init(session: ExecSession) {
        self.session = session
    }

    /// The handshake: `initialize`, then `notifications/initialized`.
    public func initialize(timeout: Double) async throws(ToolError) {
        guard !initialized else { return }
        let params: JSONValue = [
            "protocolVersion": .string(Self.protocolVersion), "capabilities": [:],
            "clientInfo": ["name": "agent-sandbox", "version": "1.0"],
        ]
        _ = try await request("initialize", params, timeout: timeout)
        try send(["jsonrpc": "2.0", "method": "notifications/initialized"])
        initialized = true
    }

    /// Every tool the server offers (following `nextCursor` pages, at most 50).
    public func listTools(timeout: Double) async throws(ToolError) -> [JSONValue] {
        var tools: [JSONValue] = []
        var page: JSONValue? = nil
        for _ in 0..<50 {
            var params: JSONValue = [:]
            if let page { params = ["cursor": page] }
            let result = try await request("tools/list", params, timeout: timeout)
            tools += result["tools"]?.arrayValue ?? []
            guard let next = result["nextCursor"], next != .null else { break }
            page = next
        }
        return tools
    }

    /// Calls a tool; the server's `CallToolResult` (`content`, `isError`, `structuredContent`).
    public func callTool(_ name: String, arguments: JSONValue, timeout: Double) async throws(ToolError) -> JSONValue {
        try await request("tools/call", ["name": .string(name), "arguments": arguments], timeout: timeout)
    }

    /// Sends one request and waits for its answer: the `result`, or the JSON-RPC `error` as a ToolError.
    func request(_ method: String, _ params: JSONValue, timeout: Double) async throws(ToolError) -> JSONValue {
        let id = nextID
        nextID += 1
        try send(["jsonrpc": "2.0", "id": .number(Double(id)), "method": .string(method), "params": params])
        let deadline = ContinuousClock.now + .milliseconds(Int64(max(0.001, timeout) * 1000))
        while true {
            let seen = session.changes.generation
            drain()
            if let answer = answers.removeValue(forKey: id) {
                if let error = answer["error"], error != .null {
                    let message = error["message"]?.stringValue ?? "unknown error"
                    throw ToolError(.execFailed, "The MCP server answered \(method) with an error: \(message.prefix(2000))")
                }
                return answer["result"] ?? .null
            }
            if let protocolFault { throw ToolError(.execFailed, protocolFault) }
            if !session.isRunning { throw ToolError(.execFailed, exitSentence(during: method)) }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero || Task.isCancelled {
                timedOut = true
                throw ToolError(.timeout, "The MCP server did not answer \(method) within \(Self.seconds(timeout)) s. Raise `timeout`, or check that `command` starts a stdio MCP server.")
            }
            await session.changes.wait(past: seen, timeout: min(remaining, .seconds(5)))
        }
    }

    private func send(_ message: JSONValue) throws(ToolError) {
        guard let data = try? JSONEncoder().encode(message) else {
            throw ToolError.invalidField("arguments", "cannot be encoded as JSON.")
        }
        do throws(ToolError) {
            try session.writeStdin(Array(data) + [0x0A], eof: false)
        } catch {
            throw ToolError(.execFailed, session.isRunning ? error.message : exitSentence(during: "the request"))
        }
    }

    /// Reads what the server wrote since the last call: answers are kept by id, requests answered.
    private func drain() {
        while true {
            let events = session.read(&cursor, limit: 1 << 20)
            if events.isEmpty { return }
            for event in events {
                switch event {
                case .output(_, .stdout, let bytes): take(bytes)
                case .output(_, .stderr, let bytes): stderrTail = Array((stderrTail + bytes).suffix(2000))
                case .dropped(.stdout, _): protocolFault = "The MCP server wrote more than the session buffer holds between reads; its messages were lost."
                case .dropped, .exit: break
                }
            }
        }
    }

    private func take(_ bytes: [UInt8]) {
        var start = bytes.startIndex
        while let newline = bytes[start...].firstIndex(of: 0x0A) {
            line += bytes[start..<newline]
            handle(line)
            line.removeAll(keepingCapacity: true)
            start = newline + 1
        }
        line += bytes[start...]
        if line.count > Self.lineLimit {
            protocolFault = "The MCP server wrote a line longer than \(Self.lineLimit) bytes without a newline; stdio MCP servers send one JSON-RPC message per line."
            line.removeAll()
        }
    }

    private func handle(_ raw: [UInt8]) {
        let text = raw.last == 0x0D ? Array(raw.dropLast()) : raw
        guard text.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return }
        guard let message = try? JSONParser.parse(text), case .object = message else {
            let shown = String(decoding: text.prefix(200), as: UTF8.self)
            protocolFault = "The MCP server wrote something that is not a JSON-RPC message on stdout: \"\(shown)\". A stdio MCP server must write only JSON-RPC there (logs go to stderr)."
            return
        }
        if let method = message["method"]?.stringValue {
            // A request from the server (it has an id) gets an answer; a notification needs none.
            guard let id = message["id"], id != .null else { return }
            let reply: JSONValue = method == "ping"
                ? ["jsonrpc": "2.0", "id": id, "result": [:]]
                : ["jsonrpc": "2.0", "id": id, "error": ["code": -32601, "message": .string("agent-sandbox's MCP client does not offer \(method)")]]
            try? send(reply)
            return
        }
        if let id = message["id"]?.doubleValue { answers[Int(id)] = message }
    }

    private func exitSentence(during method: String) -> String {
        drain()
        let code = session.exit.map { " with exit code \($0.exitCode)" } ?? ""
        let stderr = String(decoding: stderrTail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let said = stderr.isEmpty ? "" : " Its stderr ends: \(stderr.suffix(600))"
        return "The MCP server exited\(code) during \(method); check `command` (it must start a stdio MCP server inside the workspace).\(said)"
    }

    static func seconds(_ value: Double) -> String {
        value.rounded() == value ? String(Int(value)) : String(value)
    }
}
