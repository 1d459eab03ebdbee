#if canImport(Glibc)
import Glibc
#endif
import AgentSandbox
import Foundation
import SandboxKernel

/// A minimal blocking HTTP/1.1 GET over a plain TCP socket that streams the body into a file
/// descriptor (chunked or sized). Used for `export` over `http://`: FoundationNetworking's
/// URLSession hops threads for every 16 KiB read and managed ~4 MiB/s on a 150 MB archive here;
/// this reads 256 KiB at a time. `https://` URLs go through URLSession instead.
struct PlainHTTPDownload {
    let url: URL
    let headers: [String: String]

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Sends the request; writes a 200 body to `output` (progress on `progress`). Returns the status
    /// and, when it is not 200, the collected error body.
    func run(into output: Int32, progress: ProgressBar) throws -> (status: Int, body: Data) {
        guard let host = url.host else { throw Failure(description: "no host in \(url)") }
        let socket = try connect(host: host, port: url.port ?? 80)
        defer { close(socket) }
        var target = url.path.isEmpty ? "/" : url.path
        if let query = url.query { target += "?" + query }
        var request = "GET \(target) HTTP/1.1\r\nHost: \(host):\(url.port ?? 80)\r\nConnection: close\r\nAccept-Encoding: identity\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        try sendAll(socket, Array((request + "\r\n").utf8))

        var reader = SocketReader(fd: socket)
        let statusLine = try reader.line()
        let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
        var length: Int?
        var chunked = false
        while case let line = try reader.line(), !line.isEmpty {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0].lowercased() == "content-length" { length = Int(parts[1]) }
            if parts[0].lowercased() == "transfer-encoding", parts[1].lowercased().contains("chunked") { chunked = true }
        }
        var collected = Data()
        var received: Int64 = 0
        let deliver: (UnsafeRawBufferPointer) throws -> Void = { bytes in
            guard status == 200 else { return collected.append(contentsOf: bytes) }
            let failure = writeFully(output, bytes)
            guard failure == 0 else { throw Failure(description: "write failed: \(String(cString: strerror(failure)))") }
            received += Int64(bytes.count)
            progress.update(done: received, total: length.map(Int64.init))
        }
        if chunked {
            while true {
                let size = Int(try reader.line().split(separator: ";").first ?? "", radix: 16) ?? -1
                guard size >= 0 else { throw Failure(description: "malformed chunked body") }
                if size == 0 { break }
                try reader.copy(size, to: deliver)
                guard try reader.line().isEmpty else { throw Failure(description: "malformed chunked body") }
            }
        } else if let length {
            try reader.copy(length, to: deliver)
        } else {
            try reader.copy(Int.max, to: deliver)
        }
        if status == 200 { progress.update(done: received, total: nil, force: true) }
        progress.finish()
        return (status, collected)
    }

    private func connect(host: String, port: Int) throws -> Int32 {
        var hints = addrinfo(ai_flags: 0, ai_family: AF_UNSPEC, ai_socktype: Int32(SOCK_STREAM.rawValue), ai_protocol: 0,
                             ai_addrlen: 0, ai_addr: nil, ai_canonname: nil, ai_next: nil)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let list else {
            throw UnreachableServer(url: "http://\(host):\(port)", reason: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        var current: UnsafeMutablePointer<addrinfo>? = list
        var failure = ECONNREFUSED
        while let info = current {
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd >= 0, Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            failure = errno
            if fd >= 0 { close(fd) }
            current = info.pointee.ai_next
        }
        throw UnreachableServer(url: "http://\(host):\(port)", reason: String(cString: strerror(failure)))
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        let failure = bytes.withUnsafeBytes { bytes in transferFully(bytes) { rest, _ in send(fd, rest.baseAddress, rest.count, Int32(MSG_NOSIGNAL)) } }
        guard failure == 0 else { throw Failure(description: "send failed: \(String(cString: strerror(failure)))") }
    }
}

/// Buffered reads from a socket: lines (CRLF) and counted byte runs.
private struct SocketReader {
    let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 256 << 10)
    private var start = 0
    private var end = 0

    init(fd: Int32) { self.fd = fd }

    /// Refills the buffer; false at end of stream.
    private mutating func fill() throws -> Bool {
        if start == end { (start, end) = (0, 0) }
        if end == buffer.count, start > 0 {
            buffer.replaceSubrange(0..<(end - start), with: buffer[start..<end])
            (start, end) = (0, end - start)
        }
        let count = retryingEINTR { buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + end, $0.count - end, 0) } }
        guard count >= 0 else { throw PlainHTTPDownload.Failure(description: "receive failed: \(String(cString: strerror(errno)))") }
        end += count
        return count > 0
    }

    mutating func line() throws -> String {
        while true {
            if let newline = buffer[start..<end].firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[start..<newline], as: UTF8.self)
                start = newline + 1
                return line.hasSuffix("\r") ? String(line.dropLast()) : line
            }
            guard try fill() else { throw PlainHTTPDownload.Failure(description: "connection closed mid-response") }
        }
    }

    /// Hands `count` bytes (or everything up to end of stream for `Int.max`) to `body` as they arrive.
    mutating func copy(_ count: Int, to body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var remaining = count
        while remaining > 0 {
            if start == end {
                guard try fill() else {
                    if count == Int.max { return }
                    throw PlainHTTPDownload.Failure(description: "connection closed before the end of the body (the export failed)")
                }
            }
            let take = min(remaining, end - start)
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<(start + take)])) }
            start += take
            if count != Int.max { remaining -= take }
        }
    }
}
