#if canImport(Glibc)
import Glibc
#endif
import AgentSandbox
import Foundation
import SandboxKernel

/// A small blocking RFC 6455 client for `agent-sandbox shell`: plain `ws://` over a TCP socket (the
/// server is usually local; put TLS in front with a proxy). One thread reads, another writes.
final class TerminalSocket: @unchecked Sendable {
    enum Message {
        case binary([UInt8])
        case text(String)
        case close(code: Int)
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    private let fd: Int32
    private let sendLock = NSLock()
    private var buffer: [UInt8] = []

    /// Connects to `url` (`ws://host:port/path?query`) and performs the upgrade; throws with the server's
    /// error sentence when it refuses (an exec token that is unknown, expired or used …).
    init(url: URL, protocols: [String]) throws {
        guard url.scheme == "ws", let host = url.host else {
            throw Failure(description: "agent-sandbox shell speaks plain ws:// only (got \(url.scheme ?? "?")://); run it against the server's http:// address.")
        }
        let port = url.port ?? 80
        var hints = addrinfo(ai_flags: 0, ai_family: AF_UNSPEC, ai_socktype: Int32(SOCK_STREAM.rawValue), ai_protocol: 0, ai_addrlen: 0, ai_addr: nil, ai_canonname: nil, ai_next: nil)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { throw Failure(description: "cannot resolve \(host)") }
        defer { freeaddrinfo(list) }
        fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0, Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            throw Failure(description: "cannot connect to \(host):\(port): \(String(cString: strerror(errno)))")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        var target = url.path.isEmpty ? "/" : url.path
        if let query = url.query { target += "?" + query }
        var request = "GET \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        request += "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: \(key)\r\n"
        if !protocols.isEmpty { request += "Sec-WebSocket-Protocol: \(protocols.joined(separator: ", "))\r\n" }
        try writeAll(Array((request + "\r\n").utf8))
        let head = try readHead()
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        guard status == 101 else {
            let body = String(decoding: buffer, as: UTF8.self)
            let json = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
            throw Failure(description: (json?["error"] as? String).map { "\($0) (HTTP \(status), \(json?["error_code"] as? String ?? "error"))" } ?? "the server refused the terminal: HTTP \(status)")
        }
    }

    deinit { close(fd) }

    func send(binary bytes: [UInt8]) throws { try sendFrame(opcode: 2, bytes) }
    func send(text: String) throws { try sendFrame(opcode: 1, Array(text.utf8)) }

    /// The next message; `.close` at the end of the connection (code 1006 when it just dropped).
    func receive() throws -> Message {
        var assembled: [UInt8] = []
        var messageOpcode: UInt8 = 0
        while true {
            let header = try take(2)
            let opcode = header[0] & 0x0f
            var length = Int(header[1] & 0x7f)
            if length == 126 { length = try take(2).reduce(0) { $0 << 8 | Int($1) } }
            if length == 127 { length = try take(8).reduce(0) { $0 << 8 | Int($1) } }
            let payload = try take(length)
            switch opcode {
            case 8:
                let code = payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : 1005
                return .close(code: code)
            case 9: try sendFrame(opcode: 10, payload)
            case 10: continue
            default:
                if opcode != 0 { messageOpcode = opcode }
                assembled += payload
                guard header[0] & 0x80 != 0 else { continue }
                return messageOpcode == 1 ? .text(String(decoding: assembled, as: UTF8.self)) : .binary(assembled)
            }
        }
    }

    private func sendFrame(opcode: UInt8, _ payload: [UInt8]) throws {
        var frame: [UInt8] = [0x80 | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count < 65536 {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xff)]
        } else {
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xff) }
        }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
        sendLock.lock()
        defer { sendLock.unlock() }
        try writeAll(frame)
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        guard bytes.withUnsafeBytes({ writeFully(fd, $0) }) == 0 else { throw Failure(description: "connection lost") }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = retryingEINTR { chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
            guard count > 0 else { throw Failure(description: "connection closed") }
            buffer += chunk[..<count]
            return
        }
    }

    private func take(_ count: Int) throws -> [UInt8] {
        while buffer.count < count { try fill() }
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    /// Reads the response head; leaves what follows it (a refusal's body, first frames) in `buffer`.
    private func readHead() throws -> String {
        while true {
            if let end = buffer.indices.dropLast(3).first(where: { buffer[$0] == 13 && buffer[$0 + 1] == 10 && buffer[$0 + 2] == 13 && buffer[$0 + 3] == 10 }) {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                if !head.hasPrefix("HTTP/1.1 101") {
                    let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                        .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                    while buffer.count < length, (try? fill()) != nil {}
                }
                return head
            }
            try fill()
        }
    }
}
