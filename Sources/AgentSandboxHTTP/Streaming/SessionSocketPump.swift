import AgentSandbox
import Foundation
import HummingbirdWebSocket
import NIOCore

/// What every session WebSocket (`…/exec/{id}/ws` and the terminal) runs once upgraded: the session's
/// events out, each as the frame `frame` makes of it, then a close frame with code 4000 + the exit code;
/// frames in — binary as raw stdin, text through `text` — with a refused message answered in-band
/// (`{"type":"error",…}`). Ends when either half ends; closing the socket never ends the session.
enum SessionSocketPump {
    typealias Frame = WebSocketOutboundWriter.OutboundFrame

    static func run(
        _ session: ExecSession, from cursor: ExecCursor, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
        frame: @escaping @Sendable (ExecEvent) -> Frame,
        text: @escaping @Sendable (String, ExecSession) throws(ToolError) -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await sendOutput(session, from: cursor, outbound: outbound, frame: frame) }
            group.addTask { try await receiveInput(session, inbound: inbound, outbound: outbound, text: text) }
            try await group.next()
            group.cancelAll()
        }
    }

    /// A control message: `{"type":"stdin","data","encoding"?,"eof"?}`, `{"type":"signal","signal"}`,
    /// `{"type":"resize","cols","rows"}` (tty sessions).
    static func control(_ message: JSONValue, session: ExecSession) throws(ToolError) {
        switch message["type"]?.stringValue {
        case "stdin":
            let bytes = try ExecService.decode(message["data"]?.stringValue ?? "", encoding: message["encoding"]?.stringValue)
            try session.writeStdin(bytes, eof: message["eof"] == .bool(true))
        case "signal":
            try session.signal(try ExecSignal.parse(message["signal"]))
        case "resize":
            try ExecService.resize(session, to: try ExecService.terminalSize(in: message))
        default:
            throw ToolError(.invalidRequest, "Unknown message: text frames are JSON {\"type\":\"stdin\",\"data\":\"...\",\"eof\":false}, {\"type\":\"signal\",\"signal\":\"SIGINT\"} or (tty sessions) {\"type\":\"resize\",\"cols\":N,\"rows\":N}; binary frames are raw input.")
        }
    }

    /// The in-band error message: `{"type":"error","error_code","error"}`.
    static func errorMessage(_ error: ToolError) -> String {
        let reply: JSONValue = ["type": "error", "error_code": .string(error.code.rawValue), "error": .string(error.message)]
        return String(decoding: (try? JSONCoding.makeEncoder().encode(reply)) ?? Data("{}".utf8), as: UTF8.self)
    }

    private static func sendOutput(_ session: ExecSession, from start: ExecCursor, outbound: WebSocketOutboundWriter, frame: (ExecEvent) -> Frame) async throws {
        var cursor = start
        while !cursor.finished, !Task.isCancelled {
            let seen = session.changes.generation
            let events = session.read(&cursor, limit: ExecEventStream.batchBytes)
            if events.isEmpty {
                await session.changes.wait(past: seen, timeout: .seconds(30))
                continue
            }
            for event in events { try await outbound.write(frame(event)) }
        }
        if let exit = session.exit, cursor.finished {
            let code = 4000 + Int(max(0, min(exit.exitCode, 255)))
            try await outbound.close(.init(codeNumber: code), reason: "exit_code=\(exit.exitCode)")
        }
    }

    private static func receiveInput(
        _ session: ExecSession, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
        text: (String, ExecSession) throws(ToolError) -> Void
    ) async throws {
        for try await message in inbound.messages(maxSize: ExecSession.stdinQueueLimit) {
            do throws(ToolError) {
                switch message {
                case .binary(let buffer): try session.writeStdin(Array(buffer.readableBytesView), eof: false)
                case .text(let string): try text(string, session)
                }
            } catch {
                try await outbound.write(.text(errorMessage(error)))
            }
        }
    }
}
