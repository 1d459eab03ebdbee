import Foundation

/// A minimal RFC 6455 client over a raw loopback connection (blocking; use it through `offPool`).
final class WebSocketClient: @unchecked Sendable {
    enum Message: Equatable {
        case text(String)
        case binary([UInt8])
        case close(code: Int, reason: String)
    }

    let connection: LoopbackConnection

    /// Performs the upgrade handshake; throws unless the server answers 101.
    /// `apiKey`: the key to send (default the server's; "" for none); `headers`: extra request headers.
    init(_ server: TestServer, _ path: String, timeout: Double = 30, apiKey: String? = nil, headers: [String: String] = [:]) throws {
        connection = try LoopbackConnection(port: server.port, host: server.connectHost, timeout: timeout)
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try connection.sendRequest("GET", path, apiKey: apiKey ?? server.apiKey, headers: [
            "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": key,
        ].merging(headers) { $1 })
        try connection.readResponseHead()
        guard connection.status == 101 else { throw TestFailure("WebSocket upgrade refused: HTTP \(connection.status)") }
    }

    /// A client over a connection whose upgrade already succeeded.
    init(connection: LoopbackConnection) {
        self.connection = connection
    }

    func send(text: String) throws { try sendFrame(opcode: 1, Array(text.utf8)) }
    func send(binary: [UInt8]) throws { try sendFrame(opcode: 2, binary) }

    /// The next data or close message (pings answered, control frames skipped).
    func receive() throws -> Message {
        while true {
            let head = try connection.readRaw(2)
            let opcode = head[0] & 0x0F
            var length = Int(head[1] & 0x7F)
            if length == 126 {
                let bytes = try connection.readRaw(2)
                length = Int(bytes[0]) << 8 | Int(bytes[1])
            } else if length == 127 {
                length = try connection.readRaw(8).reduce(0) { $0 << 8 | Int($1) }
            }
            let payload = length > 0 ? try connection.readRaw(length) : []
            switch opcode {
            case 1: return .text(String(decoding: payload, as: UTF8.self))
            case 2: return .binary(payload)
            case 8:
                let code = payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : 1005
                return .close(code: code, reason: String(decoding: payload.dropFirst(2), as: UTF8.self))
            case 9: try sendFrame(opcode: 10, payload)
            default: continue
            }
        }
    }

    /// Receives messages until `stop` accepts one (returned last).
    func receive(until stop: (Message) -> Bool) throws -> [Message] {
        var messages: [Message] = []
        while true {
            let message = try receive()
            messages.append(message)
            if stop(message) { return messages }
            if case .close = message { return messages }
        }
    }

    func close() { connection.shutdown() }

    private func sendFrame(opcode: UInt8, _ payload: [UInt8]) throws {
        var frame: [UInt8] = [0x80 | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count < 65536 {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try connection.send(frame)
    }
}

extension WebSocketClient.Message {
    /// The JSON object of a text message.
    var json: [String: Any] {
        guard case .text(let text) = self else { return [:] }
        return ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]) ?? [:]
    }
}
