import Foundation
import Testing

/// The listener's clocks on a connection that already carried a request (`ConnectionGuard` keeps one
/// timer per connection and re-arms it lazily): a quiet keep-alive connection is closed by the idle
/// timeout, not by the shorter header timeout, and a head started later still gets its 408 from the
/// header clock. Bounds are one-sided where load could only stretch them.
@Suite(.enabled(if: isRoot, "starts its own server"))
struct ListenerClockTests {
    @Test func afterARequestTheIdleTimeoutClosesAQuietConnectionAndTheHeaderTimeoutStillAnswers408() async throws {
        let server = try await TestServer(extraArguments: ["--header-timeout", "1", "--idle-timeout", "5"]).start()
        defer { server.stop() }
        let port = server.port
        let quiet = try await offPool {
            let connection = try LoopbackConnection(port: port)
            for _ in 0..<2 { try Self.healthz(on: connection) }
            let started = Date()
            let ended = Self.waitForClose(connection)
            return (ended, Date().timeIntervalSince(started))
        }
        #expect(quiet.0 == "closed", "the quiet connection is closed by the server: \(quiet.0)")
        #expect(quiet.1 >= 3, "by the 5 s idle timeout, not the 1 s header timeout (closed after \(quiet.1) s)")

        let slow = try await offPool {
            let connection = try LoopbackConnection(port: port)
            try Self.healthz(on: connection)
            let started = Date()
            try connection.send(Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n".utf8))
            try connection.readResponseHead()
            return (connection.status, Date().timeIntervalSince(started))
        }
        #expect(slow.0 == 408, "a head left unfinished after a request gets 408")
        #expect(slow.1 < 4.5, "from the 1 s header clock, before the 5 s idle timeout (after \(slow.1) s)")
    }

    /// One `GET /healthz` on `connection`, read to the end of its body.
    static func healthz(on connection: LoopbackConnection) throws {
        try connection.send(Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        try connection.readResponseHead()
        guard connection.status == 200, let length = connection.headers["content-length"].flatMap(Int.init) else {
            throw TestFailure("healthz answered \(connection.status) \(connection.headers)")
        }
        _ = try connection.readRaw(length)
    }

    /// "closed" when the server closes the connection, else what happened (e.g. the 30 s read timeout).
    static func waitForClose(_ connection: LoopbackConnection) -> String {
        do {
            _ = try connection.readRaw(1)
            return "a byte arrived"
        } catch {
            return "\(error)" == "connection closed" ? "closed" : "\(error)"
        }
    }
}
