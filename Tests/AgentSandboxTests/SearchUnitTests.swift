@testable import AgentSandbox
import Testing

/// The glob compiler and matcher, and the Range header parser, without a server.
struct GlobPatternTests {
    func matches(_ pattern: String, _ name: String) throws -> Bool {
        let glob = try GlobPattern(pattern)
        let segment = try #require(glob.alternatives.first?.first)
        return Array(name.utf8).withUnsafeBufferPointer { segment.matches($0) }
    }

    @Test func segmentWildcards() throws {
        #expect(try matches("*.swift", "main.swift"))
        #expect(try !matches("*.swift", "main.swiftx"))
        #expect(try matches("*", ".env"), "a leading dot is ordinary")
        #expect(try matches("a?c", "abc") && !matches("a?c", "ac"))
        #expect(try matches("?.py", "é.py"), "? consumes one UTF-8 scalar")
        #expect(try matches("[a-c]x", "bx") && !matches("[a-c]x", "dx"))
        #expect(try matches("[!a-c]x", "dx") && !matches("[^a-c]x", "ax"))
        #expect(try matches("[]]", "]"))
        #expect(try matches("a*b*c", "aXXbYYc") && !matches("a*b*c", "aXXbYY"))
        #expect(try matches("\\*", "*") && !matches("\\*", "x"))
    }

    @Test func bracesExpandIncludingSlashesAndNesting() throws {
        #expect(try GlobPattern("src/*.{ts,tsx}").alternatives.count == 2)
        #expect(try GlobPattern("{a,b{c,d}}/x").alternatives.count == 3)
        #expect(try GlobPattern("{src,lib}/**/*.c").alternatives.map(\.count) == [3, 3])
        #expect(try GlobPattern("a/**/**/b").alternatives == GlobPattern("a/**/b").alternatives)
        #expect(try GlobPattern("src/**").alternatives == [[.literal(Array("src".utf8)), .globstar, .any]])
    }

    @Test func rejectsBadPatterns() {
        for pattern in ["[abc", "{a,b", "a}", "/abs/*", "", "x\\"] {
            #expect(throws: GlobSyntaxError.self, "\(pattern)") { _ = try GlobPattern(pattern) }
        }
        #expect(throws: GlobSyntaxError.self) { _ = try GlobPattern(String(repeating: "{a,b}", count: 12)) }
    }
}

struct ByteRangeTests {
    @Test func singleRanges() {
        #expect(ByteRange(header: nil, size: 10) == .whole)
        #expect(ByteRange(header: "bytes=0-0", size: 10) == .partial(0...0))
        #expect(ByteRange(header: "bytes=2-5", size: 10) == .partial(2...5))
        #expect(ByteRange(header: "bytes=5-", size: 10) == .partial(5...9))
        #expect(ByteRange(header: "bytes=8-100", size: 10) == .partial(8...9))
        #expect(ByteRange(header: "bytes=-3", size: 10) == .partial(7...9))
        #expect(ByteRange(header: "bytes=-30", size: 10) == .partial(0...9))
        #expect(ByteRange(header: "bytes=10-", size: 10) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=5-2", size: 10) == .whole, "malformed: ignored")
        #expect(ByteRange(header: "bytes=0-1,3-4", size: 10) == .whole, "several ranges: whole file")
        #expect(ByteRange(header: "items=0-1", size: 10) == .whole)
    }
}
