import AgentSandbox
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import NIOHTTP1

/// `GET /v1/agents/{id}/exec/{session_id}/ws`: a session over WebSocket.
///
/// Out: one JSON text message per event — `{"type":"stdout"|"stderr","id":N,"data":"..."}` (plus
/// `"encoding":"base64"` when the bytes are not UTF-8), `{"type":"dropped",...}`, `{"type":"exit",...}` —
/// then a close frame whose code is 4000 + the exit code (reason `exit_code=N`). Buffered output comes first
/// (from `?after=N` when given), then live output. In: binary frames are raw stdin bytes; text frames are JSON
/// `{"type":"stdin","data":"...","encoding"?:"base64","eof"?:true}`, `{"type":"signal","signal":"SIGINT"}` or, for a
/// `tty` session, `{"type":"resize","cols":N,"rows":N}`.
/// Closing the socket never ends the session.
enum ExecWebSocket {
    typealias Handler = WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>

    /// Refuses, from the request head and before the handshake, an upgrade to this route without a
    /// valid API key: 401 and the error envelope (`RequestGuard` answers it) instead of the WebSocket
    /// library's bare 400. Keys are checked in memory, as the key refresh loop keeps them (a key made by
    /// `agent-sandbox key create` works within a quarter second). Other heads: nil.
    static func precheck(keys: APIKeyAuthority) -> @Sendable (HTTPRequestHead) -> ToolError? {
        { head in
            guard head.headers["upgrade"].contains(where: { $0.lowercased() == "websocket" }), parse(head.uri) != nil else { return nil }
            var fields = HTTPFields()
            for (name, value) in head.headers { if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) } }
            guard let presented = APIKeyAuthority.presentedKey(in: fields) else { return ToolError.missingAPIKey }
            return keys.isKnown(presented) ? nil : ToolError.invalidAPIKey
        }
    }

    /// Upgrades requests that passed `precheck`. A session that cannot be streamed (unknown, lost in a
    /// restart, another agent's) is reported in-band — `{"type":"error","error_code",…}`, then close code 1008 —
    /// since a refused upgrade could only be an empty 400.
    static func shouldUpgrade(_ head: HTTPRequest, exec: ExecService, keys: APIKeyAuthority) async -> ShouldUpgradeResult<Handler> {
        guard let path = head.path, let target = parse(path) else { return .dontUpgrade }
        let session: ExecSession
        do {
            guard await isAuthenticated(head.headerFields, keys: keys) else { throw ToolError.invalidAPIKey }
            session = try await exec.streamableSession(target.agent, session: target.session, entry: .exec)
        } catch {
            let failure = ToolError(normalizing: error)
            return .upgrade([:]) { _, outbound, _ in
                try await outbound.write(.text(SessionSocketPump.errorMessage(failure)))
                try await outbound.close(.init(codeNumber: 1008), reason: String(failure.code.rawValue.prefix(100)))
            }
        }
        let cursor = session.cursor(after: target.after)
        return .upgrade([:]) { inbound, outbound, _ in
            try await run(session, from: cursor, inbound: inbound, outbound: outbound)
        }
    }

    static func run(_ session: ExecSession, from cursor: ExecCursor, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        try await SessionSocketPump.run(
            session, from: cursor, inbound: inbound, outbound: outbound,
            frame: { .text(ExecEventFormat.webSocket($0)) },
            text: { text, session throws(ToolError) in try SessionSocketPump.control(try JSONCoding.parseBody(Data(text.utf8)), session: session) })
    }

    /// `/v1/agents/{agent}/exec/{session}/ws[?after=N]`.
    static func parse(_ path: String) -> (agent: AgentID, session: String, after: UInt64?)? {
        let parts = path.split(separator: "?", maxSplits: 1)
        let segments = parts[0].split(separator: "/")
        guard segments.count == 6, segments[0] == "v1", segments[1] == "agents", segments[3] == "exec", segments[5] == "ws",
            let agent = try? AgentID(String(segments[2]))
        else { return nil }
        var after: UInt64?
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") where pair.hasPrefix("after=") { after = UInt64(pair.dropFirst(6)) }
        }
        return (agent, String(segments[4]), after)
    }

    private static func isAuthenticated(_ headers: HTTPFields, keys: APIKeyAuthority) async -> Bool {
        guard let presented = APIKeyAuthority.presentedKey(in: headers) else { return false }
        return await keys.isValid(presented)
    }
}
