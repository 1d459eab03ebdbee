import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `file_share` and `GET /s/{token}/{filename}` against a real server: snapshots, headers, ranges,
/// expiry, revocation, and refusal of anything outside the workspace.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct ShareTests {
    /// Downloads without the API key and without any HTTP cache.
    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        return URLSession(configuration: configuration)
    }()

    func fetch(_ url: String, headers: [String: String] = [:]) async throws -> (Int, Data, [String: String]) {
        var request = URLRequest(url: URL(string: url)!)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await Self.session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (key, value) in http.allHeaderFields { fields[String(describing: key).lowercased()] = String(describing: value) }
        return (http.statusCode, data, fields)
    }

    func share(_ server: TestServer, _ agent: String, _ input: [String: Any]) async throws -> TestServer.Reply {
        try await server.call("file_share", agent: agent, input)
    }

    @Test func downloadIsTheSnapshotEvenAfterEditAndDelete() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "mkdir -p out && printf 'hello, share!' > 'out/report v1.txt'")
        let reply = try await share(server, agent, ["path": "out/report v1.txt"])
        #expect(reply.string("status") == "ok", "\(reply.text)")
        let url = try #require(reply.string("url"))
        #expect(url.hasPrefix(server.baseURL + "/s/"), "absolute URL on the bound port: \(url)")
        #expect(url.hasSuffix("/report%20v1.txt"))
        #expect(reply.string("path") == "out/report v1.txt")
        let expires = try #require(reply.string("expires_at").flatMap { ISO8601DateFormatter().date(from: $0) })
        #expect(abs(expires.timeIntervalSinceNow - 7 * 24 * 3600) < 60)

        let (status, body, headers) = try await fetch(url)
        #expect(status == 200)
        #expect(body == Data("hello, share!".utf8))
        #expect(headers["content-type"] == "text/plain; charset=utf-8")
        #expect(headers["content-length"] == "13")
        #expect(headers["etag"] == "\"\(reply.string("sha256") ?? "-")\"")
        #expect(headers["content-disposition"]?.contains("report%20v1.txt") == true)
        _ = try await server.bash(agent, "printf 'changed' > 'out/report v1.txt'")
        #expect(try await fetch(url).1 == Data("hello, share!".utf8))
        _ = try await server.bash(agent, "rm -rf out")
        #expect(try await fetch(url).1 == Data("hello, share!".utf8))
    }

    @Test func rangeRequests() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "printf '0123456789' > digits.bin")
        let url = try #require(try await share(server, agent, ["path": "digits.bin"]).string("url"))
        let middle = try await fetch(url, headers: ["Range": "bytes=2-5"])
        #expect(middle.0 == 206)
        #expect(middle.1 == Data("2345".utf8))
        #expect(middle.2["content-range"] == "bytes 2-5/10")
        #expect(middle.2["content-type"] == "application/octet-stream")
        #expect(try await fetch(url, headers: ["Range": "bytes=-3"]).1 == Data("789".utf8))
        #expect(try await fetch(url, headers: ["Range": "bytes=7-"]).1 == Data("789".utf8))
        #expect(try await fetch(url, headers: ["Range": "bytes=8-100"]).1 == Data("89".utf8))
        let unsatisfiable = try await fetch(url, headers: ["Range": "bytes=10-"])
        #expect(unsatisfiable.0 == 416)
        #expect(unsatisfiable.2["content-range"] == "bytes */10")
        #expect(try await fetch(url, headers: ["Range": "bytes=0-1,4-5"]).0 == 200, "several ranges: the whole file")
    }

    @Test func wrongExpiredAndRevokedLinksAre404() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "echo data > a.txt")
        let url = try #require(try await share(server, agent, ["path": "a.txt"]).string("url"))
        let token = String(url.split(separator: "/").dropLast().last!)
        #expect(try await fetch(url).0 == 200)
        #expect(try await fetch(url.replacingOccurrences(of: "/a.txt", with: "/b.txt")).0 == 404)
        #expect(try await fetch("\(server.baseURL)/s/\(String(token.reversed()))/a.txt").0 == 404)
        #expect(try await fetch("\(server.baseURL)/s/x/a.txt").0 == 404)

        let list = try await server.request("GET", "/v1/agents/\(agent)/shares")
        #expect((list.json["shares"] as? [[String: Any]])?.first?["token"] as? String == token)
        #expect(try await server.request("DELETE", "/v1/agents/\(newAgent())/shares/\(token)").status == 404)
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)/shares/\(token)").status == 200)
        #expect(try await fetch(url).0 == 404)
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)/shares/\(token)").status == 404)

        let created = Date()
        // 8 s: long enough that a loaded machine still fetches it before it expires.
        let short = try #require(try await share(server, agent, ["path": "a.txt", "expires_in": 8]).string("url"))
        #expect(try await fetch(short).0 == 200)
        try await Task.sleep(for: .milliseconds(Int(max(0, 8.2 - Date().timeIntervalSince(created)) * 1000)))
        #expect(try await fetch(short).0 == 404)

        let kept = try #require(try await share(server, agent, ["path": "a.txt"]).string("url"))
        #expect(try await server.request("DELETE", "/v1/agents/\(agent)").status == 200)
        #expect(try await fetch(kept).0 == 404, "deleting the agent revokes its shares")
    }

    @Test func tokenIsRandomAndUnrelatedToAgentAndPath() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "echo x > same.txt")
        let first = try await share(server, agent, ["path": "same.txt"])
        let second = try await share(server, agent, ["path": "same.txt"])
        let tokens = [first, second].compactMap { $0.string("token") }
        #expect(tokens.count == 2 && tokens[0] != tokens[1])
        for token in tokens {
            #expect(token.count == 43, "256 bits, base64url")
            #expect(!token.lowercased().contains(agent.prefix(8)) && !token.contains("same"))
        }
    }

    @Test func refusesWhatIsNotARegularFileInsideTheWorkspace() async throws {
        let server = try await TestServer.shared.get()
        let (agent, other) = (newAgent(), newAgent())
        _ = try await server.bash(other, "echo secret > key.txt")
        _ = try await server.bash(agent, "ln -s /etc/passwd pw && ln -s \(server.workspace(of: other).path)/key.txt theirs && mkdir d && mkfifo pipe && echo ok > real.txt && ln -s real.txt inside")
        for (path, code) in [("pw", "PATH_OUTSIDE_WORKSPACE"), ("theirs", "PATH_OUTSIDE_WORKSPACE"), ("../x", "PATH_OUTSIDE_WORKSPACE"),
                             ("/etc/passwd", "PATH_OUTSIDE_WORKSPACE"), ("d", "IS_A_DIRECTORY"), ("pipe", "NOT_A_REGULAR_FILE"),
                             ("missing.txt", "FILE_NOT_FOUND")] {
            let reply = try await share(server, agent, ["path": path])
            #expect(reply.string("error_code") == code, "\(path): \(reply.text)")
        }
        let inside = try await share(server, agent, ["path": "inside"])
        #expect(try await fetch(try #require(inside.string("url"))).1 == Data("ok\n".utf8), "a symlink inside the workspace is fine")
    }
}
