@testable import AgentSandbox
import Testing
@testable import SandboxKernel

/// The session output log: ids, merge order, bounded rings with drop markers, resume points.
struct ExecOutputLogTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func eventsInterleaveStreamsInIDOrderAndEndWithExit() {
        var log = ExecOutputLog(capacity: 4096)
        log.append(.stdout, bytes("a"))
        log.append(.stderr, bytes("b"))
        log.append(.stdout, bytes("c"))
        log.finish(ExecExit(exitCode: 3, signal: nil, timedOut: false))
        var cursor = ExecCursor()
        let events = log.read(&cursor, limit: 1 << 20)
        #expect(events == [
            .output(id: 1, stream: .stdout, bytes: bytes("a")), .output(id: 2, stream: .stderr, bytes: bytes("b")),
            .output(id: 3, stream: .stdout, bytes: bytes("c")), .exit(id: 4, ExecExit(exitCode: 3, signal: nil, timedOut: false)),
        ])
        #expect(cursor.finished)
        #expect(log.read(&cursor, limit: 1 << 20).isEmpty)
    }

    @Test func ringDropsOldestChunksAndMarksWhatAWatcherMissed() {
        var log = ExecOutputLog(capacity: 1024)
        for index in 0..<10 { log.append(.stdout, [UInt8](repeating: UInt8(48 + index), count: 300)) }
        #expect(log.droppedBytes(.stdout) == 2100)
        var cursor = ExecCursor()
        let events = log.read(&cursor, limit: 1 << 20)
        #expect(events.first == .dropped(stream: .stdout, bytes: 2100))
        #expect(events.count == 4)
        #expect(log.totalBytes(.stdout) == 3000)
    }

    @Test func aLiveWatcherThatFallsBehindGetsTheExactGap() {
        var log = ExecOutputLog(capacity: 1024)
        log.append(.stdout, [UInt8](repeating: 1, count: 500))
        var cursor = ExecCursor()
        _ = log.read(&cursor, limit: 1 << 20)
        for _ in 0..<5 { log.append(.stdout, [UInt8](repeating: 2, count: 500)) }
        let events = log.read(&cursor, limit: 1 << 20)
        #expect(events.first == .dropped(stream: .stdout, bytes: 1500))
        #expect(events.dropFirst().count == 2)
    }

    @Test func resumingAfterAnEventIDRepeatsNothing() {
        var log = ExecOutputLog(capacity: 4096)
        for index in 0..<6 { log.append(index % 2 == 0 ? .stdout : .stderr, bytes("\(index)")) }
        var cursor = log.cursor(after: 3)
        let events = log.read(&cursor, limit: 1 << 20)
        #expect(events == [
            .output(id: 4, stream: .stderr, bytes: bytes("3")), .output(id: 5, stream: .stdout, bytes: bytes("4")),
            .output(id: 6, stream: .stderr, bytes: bytes("5")),
        ])
    }

    @Test func readStopsNearTheLimitAndContinuesWhereItStopped() {
        var log = ExecOutputLog(capacity: 1 << 20)
        for _ in 0..<10 { log.append(.stdout, [UInt8](repeating: 7, count: 100)) }
        var cursor = ExecCursor()
        #expect(log.read(&cursor, limit: 250).count == 3)
        #expect(log.read(&cursor, limit: 1 << 20).count == 7)
    }

    @Test func utf8SequencesSplitAcrossReadsAreHeldBack() {
        var boundary = UTF8Boundary()
        let euro = Array("€".utf8)
        #expect(boundary.take(ArraySlice(bytes("ab") + euro.prefix(2))) == bytes("ab"))
        #expect(boundary.take(ArraySlice(euro.suffix(1) + bytes("c"))) == euro + bytes("c"))
        #expect(boundary.take(ArraySlice([0xE2])) == [])
        #expect(boundary.flush() == [0xE2])
    }
}
