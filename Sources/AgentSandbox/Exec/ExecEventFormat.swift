import Foundation
import NIOCore

/// How output bytes travel in text protocols.
public enum ExecOutputEncoding: String, Sendable {
    /// UTF-8 text (invalid bytes replaced; in SSE, CR and CRLF arrive as LF).
    case text
    /// Base64 of the exact bytes: the binary-safe variant.
    case base64

    /// `?encoding=` of a request: `text` (or `utf-8`) by default, or `base64`.
    public init(query value: String?) throws(ToolError) {
        switch value?.lowercased() {
        case nil, "", "text", "utf-8", "utf8": self = .text
        case "base64": self = .base64
        default: throw ToolError.invalidField("encoding", "must be \"utf-8\" or \"base64\".")
        }
    }
}

/// Renders session events for each transport: SSE frames, WebSocket JSON messages, and `/wait` text.
public enum ExecEventFormat {
    /// One SSE frame: `id:` (output and exit), `event:` (`stdout`, `stderr`, `dropped`, `exit`), `data:`.
    public static func sse(_ event: ExecEvent, encoding: ExecOutputEncoding, into buffer: inout ByteBuffer) {
        switch event {
        case .output(let id, let stream, let bytes):
            buffer.writeString("id: \(id)\nevent: \(stream.name)\n")
            if encoding == .base64 {
                buffer.writeString("data: \(Data(bytes).base64EncodedString())\n")
            } else {
                writeDataLines(bytes, into: &buffer)
            }
        case .dropped(let stream, let bytes):
            buffer.writeString("event: dropped\ndata: {\"stream\":\"\(stream.name)\",\"dropped_bytes\":\(bytes)}\n")
        case .exit(let id, let exit):
            buffer.writeString("id: \(id)\nevent: exit\ndata: \(exitJSON(exit))\n")
        }
        buffer.writeString("\n")
    }

    /// `data:` lines for UTF-8 text (invalid bytes replaced): every LF, CR or CRLF starts a new line, which
    /// a client joins back with LF. Works on bytes: a flood of short lines stays cheap.
    private static func writeDataLines(_ bytes: [UInt8], into buffer: inout ByteBuffer) {
        var text = String(decoding: bytes, as: UTF8.self)
        text.withUTF8 { utf8 in
            buffer.writeStaticString("data: ")
            var start = 0, index = 0
            while index < utf8.count {
                let byte = utf8[index]
                if byte == 10 || byte == 13 {
                    buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[start..<index]))
                    buffer.writeStaticString("\ndata: ")
                    if byte == 13, index + 1 < utf8.count, utf8[index + 1] == 10 { index += 1 }
                    start = index + 1
                }
                index += 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[start...]))
            buffer.writeStaticString("\n")
        }
    }

    /// One WebSocket text message: `{"type":"stdout","id":N,"data":"..."}` (with `"encoding":"base64"` when
    /// the bytes are not UTF-8), `{"type":"dropped",...}` or `{"type":"exit","id":N,"exit_code":...}`.
    public static func webSocket(_ event: ExecEvent) -> String {
        let fields: [String: JSONValue]
        switch event {
        case .output(let id, let stream, let bytes):
            if let text = String(validating: bytes, as: UTF8.self) {
                fields = ["type": .string(stream.name), "id": .number(Double(id)), "data": .string(text)]
            } else {
                fields = ["type": .string(stream.name), "id": .number(Double(id)), "data": .string(Data(bytes).base64EncodedString()), "encoding": "base64"]
            }
        case .dropped(let stream, let bytes):
            fields = ["type": "dropped", "stream": .string(stream.name), "dropped_bytes": .number(Double(bytes))]
        case .exit(let id, let exit):
            var object = exitFields(exit)
            object["type"] = "exit"
            object["id"] = .number(Double(id))
            fields = object
        }
        return encode(.object(fields))
    }

    public static func exitFields(_ exit: ExecExit) -> [String: JSONValue] {
        [
            "exit_code": .number(Double(exit.exitCode)),
            "signal": exit.signal.map { .string(ExecSignal.name(of: $0)) } ?? .null,
            "timed_out": .bool(exit.timedOut),
        ]
    }

    public static func exitJSON(_ exit: ExecExit) -> String { encode(.object(exitFields(exit))) }

    /// `/wait` output: each stream's new bytes as text, with a visible marker where bytes were dropped.
    public static func text(_ events: [ExecEvent]) -> (stdout: String, stderr: String) {
        var streams: [[UInt8]] = [[], []]
        for event in events {
            switch event {
            case .output(_, let stream, let bytes): streams[stream.rawValue] += bytes
            case .dropped(let stream, let bytes): streams[stream.rawValue] += Array("[... \(bytes) bytes dropped ...]\n".utf8)
            case .exit: break
            }
        }
        return (String(decoding: streams[0], as: UTF8.self), String(decoding: streams[1], as: UTF8.self))
    }

    private static func encode(_ value: JSONValue) -> String {
        (try? String(decoding: JSONCoding.makeEncoder().encode(value), as: UTF8.self)) ?? "{}"
    }
}
