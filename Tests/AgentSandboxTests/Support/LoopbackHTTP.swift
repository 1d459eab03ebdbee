#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A blocking TCP connection to the test server on 127.0.0.1, with an HTTP/1.1 response reader that
/// hands out the body as it arrives (chunked or not). Used by the SSE and WebSocket test clients:
/// FoundationNetworking on Linux has no streaming `bytes(for:)`.
final class LoopbackConnection: @unchecked Sendable {
    private let fd: Int32
    private var pending: [UInt8] = []
    private var chunkRemaining = 0
    private var chunked = false
    private var bodyEnded = false
    private(set) var status = 0
    private(set) var headers: [String: String] = [:]

    /// `host`: an IPv4 address (the server's `connectHost` when it runs in a `NetworkLab`).
    init(port: Int, host: String = "127.0.0.1", timeout: Double = 30) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw TestFailure("connect to port \(port): errno \(errno)") }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0, errno == EINTR { continue }
            guard sent > 0 else { throw TestFailure("send: errno \(errno)") }
            offset += sent
        }
    }

    /// Sends a request head (and body) with the server's API key.
    func sendRequest(_ method: String, _ path: String, apiKey: String, headers extra: [String: String] = [:], body: Data? = nil) throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (apiKey.isEmpty ? "" : "x-api-key: \(apiKey)\r\n")
        for (name, value) in extra { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        try send(Array((head + "\r\n").utf8) + Array(body ?? Data()))
    }

    /// Reads more bytes into the buffer; false at EOF. Throws on timeout.
    private func fill() throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { pending += buffer[..<count]; return true }
            if count == 0 { return false }
            if errno == EINTR { continue }
            throw TestFailure(errno == EAGAIN ? "read timed out" : "recv: errno \(errno)")
        }
    }

    /// Reads one CRLF-terminated line from the buffer.
    private func readLine() throws -> String {
        while true {
            if let end = indexOfCRLF() {
                let line = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeFirst(end + 2)
                return line
            }
            guard try fill() else { throw TestFailure("connection closed mid-line") }
        }
    }

    private func indexOfCRLF() -> Int? {
        guard pending.count >= 2 else { return nil }
        for index in 0..<(pending.count - 1) where pending[index] == 13 && pending[index + 1] == 10 { return index }
        return nil
    }

    /// Reads the status line and headers.
    func readResponseHead() throws {
        let statusLine = try readLine()
        status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        chunked = headers["transfer-encoding"]?.lowercased().contains("chunked") == true
        if !chunked, let length = headers["content-length"].flatMap(Int.init) { chunkRemaining = length; bodyEnded = length == 0 }
    }

    /// The next piece of the body as it arrives; nil at its end.
    func readBody() throws -> [UInt8]? {
        if bodyEnded { return nil }
        if chunked {
            if chunkRemaining == 0 {
                let size = Int(try readLine().split(separator: ";")[0], radix: 16) ?? 0
                if size == 0 { bodyEnded = true; return nil }
                chunkRemaining = size
            }
            if pending.isEmpty, try !fill() { bodyEnded = true; return nil }
            let take = min(chunkRemaining, pending.count)
            let piece = Array(pending[..<take])
            pending.removeFirst(take)
            chunkRemaining -= take
            if chunkRemaining == 0 { _ = try readLine() }
            return piece
        }
        if pending.isEmpty, try !fill() { bodyEnded = true; return nil }
        defer { pending = [] }
        return pending
    }

    /// Raw bytes after the head (WebSocket frames): at least `count` of them.
    func readRaw(_ count: Int) throws -> [UInt8] {
        while pending.count < count { guard try fill() else { throw TestFailure("connection closed") } }
        let bytes = Array(pending[..<count])
        pending.removeFirst(count)
        return bytes
    }

    func shutdown() { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
}

/// Runs blocking client work on its own thread, so Swift's cooperative pool never waits on a socket.
@discardableResult func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
