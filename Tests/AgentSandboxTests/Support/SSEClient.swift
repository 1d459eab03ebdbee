#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One Server-Sent Event as a client sees it, with its arrival time.
struct SSEEvent: Sendable {
    var id: UInt64?
    var event: String
    var data: String
    var arrived: Date
}

/// A minimal SSE reader over a raw loopback connection (blocking; use it through `offPool`).
final class SSEClient: @unchecked Sendable {
    let connection: LoopbackConnection
    private var buffer: [UInt8] = []
    private var scanFrom = 0

    /// Sends the request and reads the response head.
    init(_ server: TestServer, _ path: String, method: String = "GET", body: Data? = nil, lastEventID: UInt64? = nil, timeout: Double = 30) throws {
        connection = try LoopbackConnection(port: server.port, host: server.connectHost, timeout: timeout)
        var headers = ["Accept": "text/event-stream"]
        if let lastEventID { headers["Last-Event-ID"] = String(lastEventID) }
        try connection.sendRequest(method, path, apiKey: server.apiKey, headers: headers, body: body)
        try connection.readResponseHead()
    }

    var status: Int { connection.status }

    /// The next event (comments skipped); nil when the stream ended.
    func next() throws -> SSEEvent? {
        while true {
            if let end = frameEnd() {
                let event = buffer.withUnsafeBufferPointer { Self.parse(UnsafeBufferPointer(rebasing: $0[..<end])) }
                buffer.removeFirst(end + 2)
                scanFrom = 0
                if let event { return event }
                continue
            }
            scanFrom = max(0, buffer.count - 1)
            guard let piece = try connection.readBody() else { return nil }
            buffer += piece
        }
    }

    /// Reads events until `stop` says so (that event included) or the stream ends.
    func read(until stop: (SSEEvent) -> Bool = { $0.event == "exit" }) throws -> [SSEEvent] {
        var events: [SSEEvent] = []
        while let event = try next() {
            events.append(event)
            if stop(event) { break }
        }
        return events
    }

    func close() { connection.shutdown() }

    /// Index of the blank line ending the next frame (memchr: the load test reads many megabytes).
    private func frameEnd() -> Int? {
        guard buffer.count - scanFrom >= 2 else { return nil }
        return buffer.withUnsafeBytes { bytes in
            let base = bytes.baseAddress!
            var index = scanFrom
            while index < bytes.count - 1, let found = memchr(base + index, 10, bytes.count - 1 - index) {
                index = UnsafeRawPointer(found) - base
                if bytes[index + 1] == 10 { return index }
                index += 1
            }
            return nil
        }
    }

    private static func parse(_ frame: UnsafeBufferPointer<UInt8>) -> SSEEvent? {
        var event = SSEEvent(id: nil, event: "message", data: "", arrived: Date())
        var data: [UInt8] = []
        var hasData = false
        var lineStart = 0
        while lineStart <= frame.count {
            let rest = frame.count - lineStart
            let newline = rest > 0 ? memchr(frame.baseAddress! + lineStart, 10, rest) : nil
            let lineEnd = newline.map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - frame.baseAddress! } ?? frame.count
            let line = UnsafeBufferPointer(rebasing: frame[lineStart..<lineEnd])
            lineStart = lineEnd + 1
            guard let first = line.first, first != UInt8(ascii: ":") else { continue }
            let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.count
            var valueStart = min(colon + 1, line.count)
            if valueStart < line.count, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
            let value = UnsafeBufferPointer(rebasing: line[valueStart...])
            switch String(decoding: UnsafeBufferPointer(rebasing: line[..<colon]), as: UTF8.self) {
            case "id": event.id = UInt64(String(decoding: value, as: UTF8.self))
            case "event": event.event = String(decoding: value, as: UTF8.self)
            case "data":
                if hasData { data.append(10) }
                data.append(contentsOf: value)
                hasData = true
            default: break
            }
        }
        if !hasData, event.event == "message" { return nil }
        event.data = String(decoding: data, as: UTF8.self)
        return event
    }
}

extension Array where Element == SSEEvent {
    /// The concatenated data of the `stream` events.
    func text(_ stream: String = "stdout") -> String { filter { $0.event == stream }.map(\.data).joined() }
}
