#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The status pipe of one warm call, read and checked against the request's nonce: every reply the
/// zygote writes carries an HMAC under the sandbox's key (see zygote.c), so a reply written by anything
/// else — a process of the agent that got hold of the call's descriptors — is told apart.
///
/// A reply is 40 bytes in host byte order: `kind` (UInt32), `value` (Int32), then
/// HMAC-SHA-256(key, nonce | kind | value).
package final class ZygoteStatusPipe {
    /// What one read of the pipe found.
    enum Reply: Equatable {
        /// The zygote forked the call: its pid inside the sandbox.
        case started(pid: Int32)
        /// The zygote did not fork it; its reason is on the call's error pipe.
        case refused
        /// The call's main process ended with this raw wait status.
        case exited(status: Int32)
        /// End of file with no reply: the zygote died (or never had the call).
        case closed
        /// Bytes that are not an authentic reply to this request (or nothing within the timeout).
        case forged
    }

    static let replyBytes = 40
    let fd: Int32
    private let key: HMACSHA256.Key
    private let nonce: [UInt8]
    /// Set once a read found a forged reply: the call's result cannot be trusted.
    private(set) var forged = false

    init(fd: Int32, key: HMACSHA256.Key, nonce: [UInt8]) {
        self.fd = fd
        self.key = key
        self.nonce = nonce
    }

    convenience init(fd: Int32, key: [UInt8], nonce: [UInt8]) {
        self.init(fd: fd, key: HMACSHA256.Key(key), nonce: nonce)
    }

    /// Reads one reply, waiting up to `timeout` seconds for all of it.
    func read(timeout: Double) -> Reply {
        var bytes = [UInt8](repeating: 0, count: Self.replyBytes)
        var filled = 0
        let deadline = Date().addingTimeInterval(timeout)
        while filled < bytes.count {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let waitMs = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            let polled = retryingEINTR { poll(&ready, 1, waitMs) }
            guard polled > 0 else { return record(.forged) }
            let count = retryingEINTR { bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) } }
            guard count > 0 else { return record(filled == 0 ? .closed : .forged) }
            filled += count
        }
        return record(decode(bytes))
    }

    private func decode(_ bytes: [UInt8]) -> Reply {
        let fields = Array(bytes[0..<8])
        guard HMACSHA256.equal(key.code(for: nonce + fields), Array(bytes[8...])) else { return .forged }
        let kind = fields.withUnsafeBytes { $0.load(fromByteOffset: 0, as: UInt32.self) }
        let value = fields.withUnsafeBytes { $0.load(fromByteOffset: 4, as: Int32.self) }
        switch kind {
        case 1: return .started(pid: value)
        case 2: return .refused
        case 3: return .exited(status: value)
        default: return .forged
        }
    }

    private func record(_ reply: Reply) -> Reply {
        if reply == .forged { forged = true }
        return reply
    }

    /// `count` random bytes (a sandbox's key, a request's nonce).
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        while bytes.count < count { withUnsafeBytes(of: generator.next()) { bytes += $0 } }
        return Array(bytes.prefix(count))
    }
}
