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
        connection = try LoopbackConnection(port: server.port, timeout: timeout)
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
                let frame = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 2)
                scanFrom = 0
                if let event = Self.parse(frame) { return event }
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

    private func frameEnd() -> Int? {
        guard buffer.count >= 2 else { return nil }
        return buffer.withUnsafeBufferPointer { bytes in
            var index = scanFrom
            while index < bytes.count - 1 {
                if bytes[index] == 10, bytes[index + 1] == 10 { return index }
                index += 1
            }
            return nil
        }
    }

    private static func parse(_ frame: String) -> SSEEvent? {
        var event = SSEEvent(id: nil, event: "message", data: "", arrived: Date())
        var dataLines: [Substring] = []
        for line in frame.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(":") { continue }
            let field = line.prefix { $0 != ":" }
            var value = line.dropFirst(field.count + 1)
            if value.hasPrefix(" ") { value = value.dropFirst() }
            switch field {
            case "id": event.id = UInt64(value)
            case "event": event.event = String(value)
            case "data": dataLines.append(value)
            default: break
            }
        }
        if dataLines.isEmpty, event.event == "message" { return nil }
        event.data = dataLines.joined(separator: "\n")
        return event
    }
}

extension Array where Element == SSEEvent {
    /// The concatenated data of the `stream` events.
    func text(_ stream: String = "stdout") -> String { filter { $0.event == stream }.map(\.data).joined() }
}
