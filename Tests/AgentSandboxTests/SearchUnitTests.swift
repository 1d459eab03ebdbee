@testable import AgentSandbox
import Foundation
import Testing
@testable import SandboxKernel

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

/// `GlobWalker` on a generated tree wide and deep enough that its threads share directories.
struct GlobWalkerTests {
    @Test func parallelWalkEqualsSingleThreadedAndSelectsTheNewest() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("glob-walker-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        var expected: [(path: String, time: Int)] = []
        for a in 0..<12 {
            for b in 0..<15 {
                let directory = "\(root)/d\(a)/e\(b)" + (b % 4 == 0 ? "/deep/er" : "")
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                for c in 0..<6 {
                    let path = "\(directory)/f\(c).\(c % 2 == 0 ? "swift" : "txt")"
                    _ = FileManager.default.createFile(atPath: path, contents: nil)
                    // Repeated times, so ties are broken by path.
                    let time = (a * 7 + b * 3 + c) % 40
                    try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_600_000_000 + Double(time))], ofItemAtPath: path)
                    if c % 2 == 0 { expected.append((String(path.dropFirst(root.count + 1)), time)) }
                }
            }
        }
        try FileManager.default.createDirectory(atPath: "\(root)/.git/x", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: "\(root)/.git/x/y.swift", contents: nil)
        let order = expected.sorted { $0.time != $1.time ? $0.time > $1.time : $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }.map(\.path)

        for threads in [1, 2, 4] {
            for limit in [1, 7, 100, order.count, 50000] {
                var walker = GlobWalker(pattern: try GlobPattern("**/*.swift"))
                walker.threads = threads
                let fd = open(root, O_RDONLY | O_DIRECTORY)
                try #require(fd >= 0)
                let result = walker.walk(directoryFD: fd, prefix: "", limit: limit, deadline: .distantFuture)
                #expect(result.paths == Array(order.prefix(limit)), "threads \(threads), limit \(limit)")
                #expect(result.totalFound == order.count)
                #expect(!result.timedOut)
            }
        }
    }

    @Test func boundedSelectionEqualsSorting() {
        let values = (0..<1000).map { ($0 * 7919) % 503 }
        for count in [0, 1, 10, 502, 503, 2000] {
            #expect(GlobWalker.smallest(count, of: values, by: <) == Array(values.sorted().prefix(count)))
        }
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
