import AgentSandbox
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore

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

    /// Upgrades only authenticated requests for a session in memory; anything else falls through to the
    /// HTTP routes, which answer with the right error envelope.
    static func shouldUpgrade(_ head: HTTPRequest, exec: ExecService, keys: APIKeyAuthority) async -> ShouldUpgradeResult<Handler> {
        guard let path = head.path, let target = parse(path), await isAuthenticated(head.headerFields, keys: keys),
            let session = try? await exec.streamableSession(target.agent, session: target.session, entry: .exec)
        else { return .dontUpgrade }
        let cursor = session.cursor(after: target.after)
        return .upgrade([:]) { inbound, outbound, _ in
            try await run(session, from: cursor, inbound: inbound, outbound: outbound)
        }
    }

    static func run(_ session: ExecSession, from cursor: ExecCursor, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await sendOutput(session, from: cursor, outbound: outbound) }
            group.addTask { try await receiveInput(session, inbound: inbound, outbound: outbound) }
            try await group.next()
            group.cancelAll()
        }
    }

    private static func sendOutput(_ session: ExecSession, from start: ExecCursor, outbound: WebSocketOutboundWriter) async throws {
        var cursor = start
        while !cursor.finished, !Task.isCancelled {
            let seen = session.changes.generation
            let events = session.read(&cursor, limit: ExecEventStream.batchBytes)
            if events.isEmpty {
                await session.changes.wait(past: seen, timeout: .seconds(30))
                continue
            }
            for event in events { try await outbound.write(.text(ExecEventFormat.webSocket(event))) }
        }
        if let exit = session.exit, cursor.finished {
            let code = 4000 + Int(max(0, min(exit.exitCode, 255)))
            try await outbound.close(.init(codeNumber: code), reason: "exit_code=\(exit.exitCode)")
        }
    }

    private static func receiveInput(_ session: ExecSession, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        for try await message in inbound.messages(maxSize: ExecSession.stdinQueueLimit) {
            do {
                switch message {
                case .binary(let buffer):
                    try session.writeStdin(Array(buffer.readableBytesView), eof: false)
                case .text(let text):
                    try handleControl(text, session: session)
                }
            } catch {
                let reply: JSONValue = ["type": "error", "error_code": .string(error.code.rawValue), "error": .string(error.message)]
                try await outbound.write(.text(String(decoding: try JSONCoding.makeEncoder().encode(reply), as: UTF8.self)))
            }
        }
    }

    private static func handleControl(_ text: String, session: ExecSession) throws(ToolError) {
        let message = try JSONCoding.parseBody(Data(text.utf8))
        switch message["type"]?.stringValue {
        case "stdin":
            let bytes = try ExecService.decode(message["data"]?.stringValue ?? "", encoding: message["encoding"]?.stringValue)
            try session.writeStdin(bytes, eof: message["eof"] == .bool(true))
        case "signal":
            try session.signal(try ExecSignal.parse(message["signal"]))
        case "resize":
            try ExecService.resize(session, to: try ExecService.terminalSize(in: message))
        default:
            throw ToolError(.invalidRequest, "Unknown message: text frames are JSON {\"type\":\"stdin\",\"data\":\"...\",\"eof\":false}, {\"type\":\"signal\",\"signal\":\"SIGINT\"} or (tty sessions) {\"type\":\"resize\",\"cols\":N,\"rows\":N}; binary frames are raw stdin.")
        }
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
