import AgentSandbox
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import NIOHTTP1

/// `GET /v1/agents/{id}/terminal`: an agent's terminal over WebSocket, authorised by an exec token
/// (`?token=`, or `Sec-WebSocket-Protocol: token.<token>`) instead of the API key, for browsers.
///
/// The token is checked from the request head, before the handshake (`precheck`, answered by the
/// listener's `RequestGuard`): a missing, unknown, expired, used or foreign one gets its 401/403 and the
/// error envelope instead of 101. It is spent when the upgrade is decided; a session that then cannot
/// start is reported in-band (`{"type":"error"}`, close code 1011).
/// Out: binary frames of raw terminal output (buffered output first); text frames of JSON — first
/// `{"type":"session","session_id",…,"reconnect_token"}` (a token that re-attaches to this session), at
/// the end `{"type":"exit","exit_code",…}`, then a close frame with code 4000 + exit code. In: binary
/// frames are raw input (keystrokes; 0x03 is Ctrl-C); a text frame is a JSON control message —
/// `{"type":"resize","cols":N,"rows":N}`, `{"type":"stdin","data":"…"}`, `{"type":"signal","signal":"INT"}` —
/// or, when it is not a JSON object with a `type`, raw input too. Closing the socket leaves the session running.
enum TerminalWebSocket {
    typealias Handler = ExecWebSocket.Handler
    /// The subprotocol the server selects when the client offers it (browsers insist on one being echoed).
    static let subprotocol = "agent-sandbox.terminal"
    static let tokenProtocolPrefix = "token."

    static func shouldUpgrade(_ head: HTTPRequest, exec: ExecService) async -> ShouldUpgradeResult<Handler> {
        guard let path = head.path, let target = parse(path), let token = token(in: head.headerFields, query: target.query) else { return .dontUpgrade }
        var headers = HTTPFields()
        if let chosen = chosenProtocol(head.headerFields) { headers[.secWebSocketProtocol] = chosen }
        let session: ExecSession
        do {
            session = try await exec.openTerminal(target.agent, token: token, session: target.session)
        } catch {
            // The head passed `precheck`, but the session could not open (it could not start, or the token
            // was spent by a racing connection): say so in-band, then close (1008 for the token, else 1011).
            return .upgrade(headers) { _, outbound, _ in
                try await outbound.write(.text(SessionSocketPump.errorMessage(error)))
                let code = error.code.rawValue.hasPrefix("TOKEN_") ? 1008 : 1011
                try await outbound.close(.init(codeNumber: code), reason: String(error.code.rawValue.prefix(100)))
            }
        }
        let cursor = session.cursor(after: nil)
        let hello = helloMessage(session, exec: exec)
        return .upgrade(headers) { inbound, outbound, _ in
            try await outbound.write(.text(hello))
            try await run(session, from: cursor, inbound: inbound, outbound: outbound)
        }
    }

    /// Refuses a terminal upgrade whose token is missing, unknown, expired, used or foreign — from the head,
    /// before the handshake, with the status and envelope (`RequestGuard` answers it). Other heads: nil.
    static func precheck(exec: ExecService) -> @Sendable (HTTPRequestHead) -> ToolError? {
        { head in
            guard head.headers["upgrade"].contains(where: { $0.lowercased() == "websocket" }), let target = parse(head.uri) else { return nil }
            var fields = HTTPFields()
            for value in head.headers["sec-websocket-protocol"] { fields.append(HTTPField(name: .secWebSocketProtocol, value: value)) }
            guard let token = token(in: fields, query: target.query) else {
                return exec.terminalRefusal(target.agent, token: nil, session: target.session)
            }
            return exec.tokens.refusal(for: token, agent: target.agent, session: target.session)
        }
    }

    static func run(_ session: ExecSession, from cursor: ExecCursor, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        try await SessionSocketPump.run(
            session, from: cursor, inbound: inbound, outbound: outbound,
            frame: { event in
                if case .output(_, _, let bytes) = event { return .binary(ByteBuffer(bytes: bytes)) }
                return .text(ExecEventFormat.webSocket(event))
            },
            text: { text, session throws(ToolError) in
                // A JSON object with a `type` is a control message; anything else is typed input.
                if let message = try? JSONCoding.parseBody(Data(text.utf8)), message["type"]?.stringValue != nil {
                    try SessionSocketPump.control(message, session: session)
                } else {
                    try session.writeStdin(Array(text.utf8), eof: false)
                }
            })
    }

    /// The first message: the session, its window, and a token to re-attach with after a dropped connection.
    private static func helloMessage(_ session: ExecSession, exec: ExecService) -> String {
        var fields = session.json().objectValue ?? [:]
        fields["type"] = "session"
        let reconnect = exec.reconnectToken(for: session)
        fields["reconnect_token"] = reconnect["token"]
        fields["reconnect_expires_at"] = reconnect["expires_at"]
        return String(decoding: (try? JSONCoding.makeEncoder().encode(JSONValue.object(fields))) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// `/v1/agents/{agent}/terminal[?token=…&session_id=…]`.
    static func parse(_ path: String) -> (agent: AgentID, session: String?, query: Substring?)? {
        let parts = path.split(separator: "?", maxSplits: 1)
        let segments = parts[0].split(separator: "/")
        guard segments.count == 4, segments[0] == "v1", segments[1] == "agents", segments[3] == "terminal",
            let agent = try? AgentID(String(segments[2]))
        else { return nil }
        let query = parts.count == 2 ? parts[1] : nil
        return (agent, queryValue("session_id", in: query), query)
    }

    /// The exec token of a request: `?token=` or a `token.<token>` entry of Sec-WebSocket-Protocol.
    static func token(in headers: HTTPFields, query: Substring?) -> String? {
        if let token = queryValue("token", in: query), !token.isEmpty { return token }
        return offeredProtocols(headers).first { $0.hasPrefix(tokenProtocolPrefix) }.map { String($0.dropFirst(tokenProtocolPrefix.count)) }
    }

    static func queryValue(_ name: String, in query: Substring?) -> String? {
        for pair in (query ?? "").split(separator: "&") where pair.hasPrefix(name + "=") {
            return String(pair.dropFirst(name.count + 1)).removingPercentEncoding
        }
        return nil
    }

    static func offeredProtocols(_ headers: HTTPFields) -> [String] {
        headers[values: .secWebSocketProtocol].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The subprotocol to echo: ours when offered, else the first offered that is not the token.
    static func chosenProtocol(_ headers: HTTPFields) -> String? {
        let offered = offeredProtocols(headers)
        if offered.contains(subprotocol) { return subprotocol }
        return offered.first { !$0.hasPrefix(tokenProtocolPrefix) }
    }
}
