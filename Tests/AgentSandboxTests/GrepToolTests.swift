import Foundation
import Testing

/// `grep` against a real server, checked against what `rg` itself prints for the same tree and flags.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct GrepToolTests {
    static let tree = #"""
        mkdir -p src/app lib .config .git docs && \
        printf 'import Foundation\nlet answer = 42\n// TODO: fix\nfunc hello() {}\nlet Answer = "x"\n' > src/app/main.swift && \
        printf 'int answer(void);\n/* todo later */\nint main() { return answer(); }\n' > lib/util.c && \
        printf '#define ANSWER 42\n' > lib/util.h && \
        printf 'secret_answer=42\n' > .config/env && \
        printf 'answer in git\n' > .git/config && \
        printf 'line one\nline two answer\nline three\nline four\nline five answer\nline six\nline seven\nline eight\nanswer nine\n' > docs/notes.txt && \
        printf 'crlf answer\r\nnext\r\n' > docs/dos.txt && \
        printf 'caf\xc3\xa9 answer \xff\n' > docs/latin.txt
        """#

    /// (pattern, extra tool input) pairs: literal and regex, each with and without options.
    nonisolated(unsafe) static let cases: [(String, [String: Any])] = [
        ("answer", [:]), ("answer", ["case_insensitive": true]), ("answer", ["include": "*.{c,h}"]),
        ("answer", ["context_lines": 1]), ("answer", ["context_lines": 3, "include": "*.txt"]),
        (#"\bint\s+\w+\("#, [:]), ("(?i)todo", [:]), (#"\d{2}"#, ["path": "lib"]), ("line (two|five)", ["path": "docs/notes.txt"]),
        ("hello.*\\n.*Answer", ["multiline": true]), ("no-such-text-anywhere", [:]),
    ]

    @Test func contentModeEqualsRipgrep() async throws {
        let (server, agent, root) = try await prepare()
        for (pattern, options) in Self.cases {
            let reply = try await server.call("grep", agent: agent, options.merging(["pattern": pattern]) { a, _ in a })
            #expect(reply.string("status") == "ok", "\(pattern) \(options): \(reply.text)")
            let matches = try #require(reply.json["matches"] as? [[String: Any]])
            var gotMatches = Set<String>(), gotLines = Set<String>()
            for match in matches {
                let file = match["file"] as! String, line = match["line"] as! Int
                gotMatches.insert("\(file):\(line):\(match["content"] as! String)")
                gotLines.insert("\(file):\(line):\(match["content"] as! String)")
                for context in match["context"] as! [[String: Any]] {
                    gotLines.insert("\(file):\(context["line"] as! Int):\(context["content"] as! String)")
                }
            }
            let reference = try ripgrep(root, pattern: pattern, options: options, mode: "content")
            if options["multiline"] == nil {
                #expect(gotMatches == reference.matches, "\(pattern) \(options)")
                #expect(gotLines == reference.matches.union(reference.context), "\(pattern) \(options): context")
            } else {
                let starts = Set(matches.map { "\($0["file"]!):\($0["line"]!)" })
                let rgStarts = Set(reference.matches.map { $0.split(separator: ":").prefix(2).joined(separator: ":") }).subtracting(reference.continuation)
                #expect(starts == rgStarts, "\(pattern) multiline")
            }
            #expect(reply.int("total_matches") == matches.count)
            #expect(!matches.contains { ($0["file"] as! String).hasPrefix(".git/") })
        }
    }

    @Test func filesAndCountModesEqualRipgrep() async throws {
        let (server, agent, root) = try await prepare()
        for (pattern, options) in Self.cases where options["context_lines"] == nil {
            for mode in ["files_with_matches", "count"] {
                let input = options.merging(["pattern": pattern, "output_mode": mode]) { a, _ in a }
                let reply = try await server.call("grep", agent: agent, input)
                let reference = try ripgrep(root, pattern: pattern, options: options, mode: mode)
                if mode == "files_with_matches" {
                    let files = try #require(reply.json["matches"] as? [String], "\(reply.text)")
                    #expect(Set(files) == reference.matches, "\(pattern) \(options)")
                    #expect(files == files.sorted(), "sorted by path")
                } else {
                    let counts = try #require(reply.json["matches"] as? [[String: Any]], "\(reply.text)")
                    #expect(Set(counts.map { "\($0["file"] as! String):\($0["count"] as! Int)" }) == reference.matches, "\(pattern) \(options)")
                }
            }
        }
    }

    @Test func truncationInvalidPatternAndAliases() async throws {
        let (server, agent, _) = try await prepare()
        let limited = try await server.call("grep", agent: agent, ["pattern": "answer", "max_results": 2, "-i": true])
        #expect((limited.json["matches"] as? [Any])?.count == 2)
        #expect(limited.bool("truncated") == true)
        #expect((limited.int("total_matches") ?? 0) > 2)
        let globbed = try await server.call("grep", agent: agent, ["pattern": "ANSWER", "glob": "*.h", "output_mode": "files_with_matches"])
        #expect(globbed.json["matches"] as? [String] == ["lib/util.h"])
        let invalid = try await server.call("grep", agent: agent, ["pattern": "fix(("])
        #expect(invalid.status == 200)
        #expect(invalid.string("error_code") == "INVALID_PATTERN")
        #expect(invalid.string("error")?.contains("unclosed group") == true, "\(invalid.text)")
        let none = try await server.call("grep", agent: agent, ["pattern": "zzz-not-here"])
        #expect(none.string("status") == "ok")
        #expect(none.json["matches"] as? [Any] != nil && (none.json["matches"] as! [Any]).isEmpty)
    }

    @Test func workspaceRouteListsTheSameMatches() async throws {
        let (server, agent, _) = try await prepare()
        let input: [String: Any] = ["pattern": "answer", "context_lines": 1, "-i": true]
        let envelope = try await server.call("grep", agent: agent, input)
        let body = try await server.post("/v1/agents/\(agent)/workspace/grep", json: input)
        let listed = try #require(envelope.json["matches"] as? [[String: Any]])
        #expect(listed.count > 3)
        #expect(NSArray(array: listed) == (body.json["matches"] as? NSArray), "\(body.text)")
        #expect(body.int("total_matches") == envelope.int("total_matches"))
    }

    @Test func timeoutStopsTheSearchAndTheServerKeepsServing() async throws {
        let (server, agent, _) = try await prepare()
        let uid = try #require(try await server.agentInfo(agent).int("uid"))
        #expect(try await server.bash(agent, "mkfifo never-written").int("exit_code") == 0)
        let started = Date()
        // ripgrep opens the FIFO it is pointed at and waits for a writer that never comes.
        let stuck = try await server.call("grep", agent: agent, ["pattern": "answer", "path": "never-written", "timeout": 1])
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(stuck.string("error_code") == "TIMEOUT", "\(stuck.text)")
        #expect((stuck.json["matches"] as? [Any])?.isEmpty == true, "the envelope still lists what was found: nothing")
        #expect(await eventually(within: 2) { processes(ownedBy: uid).isEmpty }, "ripgrep is killed")
        let next = try await server.call("grep", agent: agent, ["pattern": "answer", "include": "*.h", "-i": true])
        #expect(next.string("status") == "ok")
        #expect((next.json["matches"] as? [[String: Any]])?.map { $0["file"] as? String } == ["lib/util.h"])
    }

    @Test func neverReadsOutsideTheWorkspace() async throws {
        let server = try await TestServer.shared.get()
        let (agent, other) = (newAgent(), newAgent())
        _ = try await server.bash(other, "echo other-agent-secret > key.txt")
        _ = try await server.bash(agent, "ln -s /etc etc && ln -s \(server.workspace(of: other).path) neighbour && ln -s /etc/passwd pw && echo mine > a.txt")
        for pattern in ["root", "other-agent-secret", "localhost"] {
            let reply = try await server.call("grep", agent: agent, ["pattern": pattern])
            #expect(reply.json["matches"] as? [Any] != nil && (reply.json["matches"] as! [Any]).isEmpty, "\(pattern): \(reply.text)")
        }
        for path in ["etc", "neighbour", "pw", "/etc/passwd", "../"] {
            let reply = try await server.call("grep", agent: agent, ["pattern": "root", "path": path])
            #expect(reply.string("error_code") == "PATH_OUTSIDE_WORKSPACE", "\(path): \(reply.text)")
        }
    }

    // MARK: Helpers

    func prepare() async throws -> (TestServer, String, String) {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        #expect(try await server.bash(agent, Self.tree).int("exit_code") == 0)
        return (server, agent, server.workspace(of: agent).path)
    }

    struct Reference {
        var matches = Set<String>()
        var context = Set<String>()
        /// Lines 2… of multiline matches (rg prints them as matches; the tool reports the first line).
        var continuation = Set<String>()
    }

    /// Runs rg directly (as root) in `root` with the tool's flags, in plain output, and parses it.
    func ripgrep(_ root: String, pattern: String, options: [String: Any], mode: String) throws -> Reference {
        var arguments = ["--no-config", "--hidden", "--with-filename", "--null", "--line-number", "--no-heading"]
        if let include = options["include"] as? String { arguments += ["--glob", include] }
        arguments += ["--glob", "!.git"]
        if options["case_insensitive"] as? Bool == true { arguments.append("-i") }
        if options["multiline"] as? Bool == true { arguments += ["-U", "--multiline-dotall"] }
        if let context = options["context_lines"] as? Int { arguments += ["-C", String(context)] }
        if mode == "files_with_matches" { arguments.append("-l") }
        if mode == "count" { arguments.append("--count") }
        let target = (options["path"] as? String) ?? "."
        let data = try runProcess("/usr/bin/rg", arguments + ["-e", pattern, "--", target], in: root, stderrToo: false).output
        var reference = Reference()
        if mode == "files_with_matches" {
            reference.matches = Set(String(decoding: data, as: UTF8.self).split(separator: "\0").map { clean(String($0)) })
            return reference
        }
        var seenMatch = Set<String>()
        // Split on bytes: in Swift "\r\n" is one Character, so String.split would not cut CRLF lines.
        for bytes in data.split(separator: UInt8(ascii: "\n")) {
            let line = Substring(String(decoding: bytes, as: UTF8.self))
            if line == "--" { continue }
            guard let nul = line.firstIndex(of: "\0") else { continue }
            let file = clean(String(line[..<nul]))
            let rest = line[line.index(after: nul)...]
            if mode == "count" { reference.matches.insert("\(file):\(rest)"); continue }
            guard let separator = rest.firstIndex(where: { $0 == ":" || $0 == "-" }) else { continue }
            var content = String(rest[rest.index(after: separator)...])
            if content.hasSuffix("\r") { content.removeLast() }
            let entry = "\(file):\(rest[..<separator]):\(content)"
            if rest[separator] == ":" {
                if options["multiline"] != nil, seenMatch.contains("\(file):\(Int(rest[..<separator])! - 1)") { reference.continuation.insert("\(file):\(rest[..<separator])") }
                seenMatch.insert("\(file):\(rest[..<separator])")
                reference.matches.insert(entry)
            } else {
                reference.context.insert(entry)
            }
        }
        return reference
    }

    private func clean(_ path: String) -> String { path.hasPrefix("./") ? String(path.dropFirst(2)) : path }
}
