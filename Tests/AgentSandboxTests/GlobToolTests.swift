import Foundation
import Testing

/// `glob` against a real server, checked against an independent implementation: a plain recursive
/// walk (no symlink following, `.git` skipped) filtered by a regular expression translated from the glob.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct GlobToolTests {
    /// Nested directories, dotfiles, several extensions, a `.git` directory, symlinks in and out.
    static let tree = """
        mkdir -p src/app/models src/lib/deep/er/still .hidden/conf docs .git/objects node/a/b tests && \
        touch README.md .env .hidden/conf/x.yml src/main.swift src/app/App.swift src/app/models/User.swift \
              src/app/models/user.ts src/app/models/view.tsx src/lib/util.c src/lib/util.h src/lib/deep/er/still/z.swift \
              docs/guide.md docs/api.MD docs/a1.txt docs/b2.txt docs/c3.txt .git/objects/x.swift .git/HEAD \
              node/a/b/index.js node/a/b/index.swift tests/test_a.py tests/test_b.py "tests/spa ce.py" tests/é.py && \
        ln -s /etc etclink && ln -s src srclink && ln -s /etc/passwd pw.swift
        """

    static let patterns = [
        "**/*.swift", "*.md", "**", "src/**", "src/**/*.swift", "**/models/*", "src/*/models/*.{ts,tsx}",
        "**/*.{c,h}", "{docs,tests}/**", "docs/[ab]?.txt", "docs/[!a]*", "tests/test_?.py", ".*", "**/.*",
        "**/conf/*.yml", "src/**/still/*", "*/*/b/index.*", "**/*.MD", "tests/?.py", "nothing/**/*.x",
    ]

    @Test func resultsEqualAnIndependentWalkForManyPatterns() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        #expect(try await server.bash(agent, Self.tree).int("exit_code") == 0)
        let root = server.workspace(of: agent).path
        let all = referenceWalk(root)
        #expect(all.contains("etclink") && !all.contains { $0.hasPrefix("etclink/") })
        for pattern in Self.patterns {
            let reply = try await server.call("glob", agent: agent, ["pattern": pattern])
            let got = try #require(reply.json["matches"] as? [String], "\(pattern): \(reply.text)")
            let regex = try NSRegularExpression(pattern: "^" + globToRegex(pattern) + "$")
            let expected = Set(all.filter { regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil })
            #expect(Set(got) == expected, "pattern \(pattern)")
            #expect(got.count == Set(got).count, "no duplicates for \(pattern)")
            #expect(reply.int("total_found") == expected.count, "pattern \(pattern)")
            #expect(!got.contains { $0.hasPrefix(".git/") || $0.hasPrefix("etclink/") || $0.hasPrefix("srclink/") })
        }
    }

    @Test func newestFirstTiesByPathTruncatedAndRootDir() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, """
            mkdir -p d/sub && touch -d '2020-01-01' d/old.txt && touch -d '2024-01-01' d/new.txt d/sub/b.txt d/sub/a.txt \
            && touch -d '2022-01-01' d/mid.txt
            """)
        let reply = try await server.call("glob", agent: agent, ["pattern": "**/*.txt", "root_dir": "d"])
        #expect(reply.json["matches"] as? [String] == ["d/new.txt", "d/sub/a.txt", "d/sub/b.txt", "d/mid.txt", "d/old.txt"])
        #expect(reply.bool("truncated") == false)
        let limited = try await server.call("glob", agent: agent, ["pattern": "**/*.txt", "max_results": 2])
        #expect(limited.json["matches"] as? [String] == ["d/new.txt", "d/sub/a.txt"])
        #expect(limited.int("total_found") == 5)
        #expect(limited.bool("truncated") == true)
    }

    @Test func neverLeavesTheWorkspace() async throws {
        let server = try await TestServer.shared.get()
        let (agent, other) = (newAgent(), newAgent())
        _ = try await server.bash(other, "mkdir -p secret && echo x > secret/key.pem")
        let otherRoot = server.workspace(of: other).path
        _ = try await server.bash(agent, "ln -s /etc etc && ln -s \(otherRoot) neighbour && ln -s / rootlink")
        for pattern in ["**/passwd", "**/*.pem", "**/hosts", "etc/*", "neighbour/**", "rootlink/etc/*"] {
            let reply = try await server.call("glob", agent: agent, ["pattern": pattern])
            #expect(reply.json["matches"] as? [String] == [], "pattern \(pattern): \(reply.text)")
        }
        for root in ["etc", "neighbour", "/etc", "../"] {
            let reply = try await server.call("glob", agent: agent, ["pattern": "*", "root_dir": root])
            #expect(reply.string("error_code") == "PATH_OUTSIDE_WORKSPACE", "root_dir \(root): \(reply.text)")
        }
    }

    @Test func invalidPatternIsReported() async throws {
        let server = try await TestServer.shared.get()
        for pattern in ["src/[abc", "{a,b", "/etc/*"] {
            let reply = try await server.call("glob", agent: newAgent(), ["pattern": pattern])
            #expect(reply.string("error_code") == "INVALID_PATTERN", "\(pattern): \(reply.text)")
        }
        let outOfRange = try await server.call("glob", agent: newAgent(), ["pattern": "*", "max_results": 0])
        #expect(outOfRange.status == 400)
    }

    // MARK: The independent implementation

    /// Every non-directory entry below `root` (symlinks listed, never followed), skipping `.git/`.
    func referenceWalk(_ root: String, _ prefix: String = "") -> [String] {
        var result: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + prefix)) ?? [] {
            let relative = prefix + name
            let type = (try? FileManager.default.attributesOfItem(atPath: root + "/" + relative))?[.type] as? FileAttributeType
            if type == .typeDirectory {
                if name != ".git" { result += referenceWalk(root, relative + "/") }
            } else {
                result.append(relative)
            }
        }
        return result
    }

    /// A regular expression for the whole path: `**` segments span directories, `*`/`?` do not cross `/`.
    func globToRegex(_ glob: String) -> String {
        let chars = Array(glob)
        var out = "", index = 0, braces = 0
        while index < chars.count {
            let c = chars[index]
            let atSegmentStart = index == 0 || chars[index - 1] == "/" || chars[index - 1] == "{" || chars[index - 1] == ","
            if c == "*", index + 1 < chars.count, chars[index + 1] == "*", atSegmentStart {
                let followedBySlash = index + 2 < chars.count && chars[index + 2] == "/"
                out += followedBySlash ? "(?:.*/)?" : ".*"
                index += followedBySlash ? 3 : 2
                continue
            }
            switch c {
            case "*": out += "[^/]*"
            case "?": out += "[^/]"
            case "[":
                out += "["
                if index + 1 < chars.count, chars[index + 1] == "!" { out += "^"; index += 1 }
            case "]": out += "]"
            case "{": out += "(?:"; braces += 1
            case "}" where braces > 0: out += ")"; braces -= 1
            case "," where braces > 0: out += "|"
            default: out += NSRegularExpression.escapedPattern(for: String(c))
            }
            index += 1
        }
        return out
    }
}
