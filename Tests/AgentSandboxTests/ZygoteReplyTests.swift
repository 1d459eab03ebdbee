@testable import AgentSandbox
import Foundation
import Testing
@testable import SandboxKernel

/// The server's side of the zygote's authenticated replies: HMAC-SHA-256 and the status pipe reader.
struct ZygoteReplyTests {
    @Test func hmacMatchesRFC4231TestCase2() {
        let code = HMACSHA256.code(for: Array("what do ya want for nothing?".utf8), key: Array("Jefe".utf8))
        #expect(code.map { String(format: "%02x", $0) }.joined() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    /// A pipe holding `bytes`, its write end closed unless `keepOpen`; returns the read end.
    private func pipe(holding bytes: [UInt8], keepOpen: Bool = false) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        _ = Glibc.pipe(&fds)
        _ = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        if !keepOpen { close(fds[1]) }
        return (fds[0], keepOpen ? fds[1] : -1)
    }

    private func reply(kind: UInt32, value: Int32, key: [UInt8], nonce: [UInt8]) -> [UInt8] {
        var fields: [UInt8] = []
        withUnsafeBytes(of: kind) { fields += $0 }
        withUnsafeBytes(of: value) { fields += $0 }
        return fields + HMACSHA256.code(for: nonce + fields, key: key)
    }

    @Test func authenticRepliesAreReadAndEverythingElseIsForged() {
        let key = ZygoteStatusPipe.randomBytes(32), nonce = ZygoteStatusPipe.randomBytes(16)
        let started = reply(kind: 1, value: 42, key: key, nonce: nonce)
        let exited = reply(kind: 3, value: 256, key: key, nonce: nonce)
        let cases: [([UInt8], ZygoteStatusPipe.Reply)] = [
            (started + exited, .started(pid: 42)),
            (reply(kind: 2, value: 0, key: key, nonce: nonce), .refused),
            (exited, .exited(status: 256)),
            ([], .closed),
            (Array(started.prefix(20)), .forged),
            (reply(kind: 1, value: 42, key: key, nonce: ZygoteStatusPipe.randomBytes(16)), .forged),  // another request's
            (reply(kind: 1, value: 42, key: ZygoteStatusPipe.randomBytes(32), nonce: nonce), .forged),  // another key
            (Array(started.prefix(4)) + [43, 0, 0, 0] + started.suffix(32), .forged),  // value changed
            (reply(kind: 9, value: 0, key: key, nonce: nonce), .forged),
        ]
        for (bytes, expected) in cases {
            let (read, _) = pipe(holding: bytes)
            defer { close(read) }
            let replies = ZygoteStatusPipe(fd: read, key: key, nonce: nonce)
            #expect(replies.read(timeout: 1) == expected)
            #expect(replies.forged == (expected == .forged))
        }
    }

    @Test func aReplyThatNeverCompletesIsForgedAfterTheTimeout() {
        let key = ZygoteStatusPipe.randomBytes(32), nonce = ZygoteStatusPipe.randomBytes(16)
        let (read, write) = pipe(holding: [1, 0, 0, 0], keepOpen: true)
        defer { close(read); close(write) }
        let started = Date()
        #expect(ZygoteStatusPipe(fd: read, key: key, nonce: nonce).read(timeout: 0.2) == .forged)
        #expect(Date().timeIntervalSince(started) < 2)
    }
}
