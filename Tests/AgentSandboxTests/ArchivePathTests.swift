@testable import AgentSandbox
import Testing

/// The import path rules, as pure functions.
struct ArchivePathTests {
    private func components(_ path: String) throws(ArchiveError) -> [String] {
        try ArchivePath.components(Array(path.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func normalisesDotsAndSlashes() throws {
        #expect(try components("./a//b/./c/") == ["a", "b", "c"])
        #expect(try components("./") == [])
    }

    @Test func refusesAbsolutePathsAndDotDot() {
        for path in ["/etc/passwd", "a/../b", "..", "../x", "a/b/.."] {
            #expect(throws: ArchiveError.self, "\(path)") { _ = try components(path) }
        }
    }

    @Test(arguments: [
        ("a", [], true), ("../x", ["d"], true), ("../../x", ["d"], false), ("./b/c", [], true),
        ("/etc", ["d"], false), ("a/../b", ["d"], false), ("..", ["d", "e"], true), ("", [], false),
        ("sub/../../..", [], false), ("../lib/libz.so", ["bin"], true),
    ] as [(String, [String], Bool)])
    func symlinkTargetsThatProvablyStayInside(target: String, directory: [String], inside: Bool) {
        #expect(ArchivePath.symlinkStaysInside(target: Array(target.utf8), linkDirectory: directory.map { Array($0.utf8) }) == inside)
    }
}
