import Foundation
import Testing

/// The CLI as a user meets it: exit statuses, connection errors, usage lines, key management.
@Suite(.enabled(if: isRoot, "needs root"))
struct CLIBehaviourTests {
    @Test func callExitsNonZeroWhenTheToolFails() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let arguments = ["--url", server.baseURL, "--api-key", server.apiKey]
        let failed = try runCLI(["call", agent, "file_read", #"{"path": "missing.txt"}"#] + arguments)
        #expect(failed.status != 0, "\(failed.output)")
        #expect(failed.output.contains("FILE_NOT_FOUND"))
        let worked = try runCLI(["call", agent, "bash", #"{"command": "exit 3"}"#] + arguments)
        #expect(worked.status == 0, "a command that exits non-zero is a tool that worked: \(worked.output)")
    }

    @Test func anUnreachableServerIsASentenceNamingTheURL() throws {
        let url = "http://127.0.0.1:1"
        for arguments in [["agent", "list"], ["call", newAgent(), "bash", #"{"command": "true"}"#], ["export", newAgent(), "-o", "/dev/null"]] {
            let run = try runCLI(arguments + ["--url", url, "--api-key", "k"])
            #expect(run.status != 0)
            #expect(run.output.contains(url) && run.output.contains("AGENT_SANDBOX_URL"), "\(arguments[0]): \(run.output)")
            #expect(!run.output.contains("NSURLErrorDomain") && !run.output.contains("Error Domain"), "\(run.output)")
        }
    }

    @Test(arguments: [["agent", "create"], ["agent", "list"], ["agent", "delete"], ["key", "create"], ["key", "list"], ["key", "revoke"], ["call"], ["export"], ["import"], ["serve"]])
    func eachSubcommandsUsageNamesItself(command: [String]) throws {
        let help = try runCLI(command + ["--help"])
        #expect(help.status == 0)
        #expect(help.output.contains("USAGE: agent-sandbox \(command.joined(separator: " "))"), "\(help.output)")
    }

    @Test func anErrorFromASubcommandShowsThatSubcommandsUsage() throws {
        let cases: [([String], String)] = [
            (["call", newAgent(), "bash", "not json", "--api-key", "k"], "agent-sandbox call"),
            (["key", "list", "--data", "/nonexistent"], "agent-sandbox key list"),
            (["agent", "create", "--url", "not a url", "--api-key", "k"], "agent-sandbox agent create"),
        ]
        for (arguments, name) in cases {
            let run = try runCLI(arguments)
            #expect(run.status != 0)
            #expect(run.output.contains("Usage: \(name)") && run.output.contains("See '\(name) --help'"), "\(run.output)")
            #expect(!run.output.contains("agent-sandbox <subcommand>"), "\(run.output)")
        }
    }

    @Test func keysAreListedWithoutTheSecretAndARevokedKeyIsRefusedWithinASecond() async throws {
        let server = try await TestServer().start()
        defer { server.stop() }
        let created = try runCLI(["key", "create", "--data", server.dataRoot.path, "--name", "ci-robot"])
        let key = created.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(created.status == 0 && key.hasPrefix("ask_"))
        #expect(await eventually(within: 3) { (try? runCLI(["key", "list", "--data", server.dataRoot.path]))?.output.contains("ci-robot") == true })
        let listed = try runCLI(["key", "list", "--data", server.dataRoot.path])
        #expect(listed.status == 0)
        #expect(!listed.output.contains(key) && !listed.output.contains(server.apiKey), "never the secret: \(listed.output)")
        let row = try #require(listed.output.split(separator: "\n").first { $0.hasSuffix("\tci-robot") })
        let id = String(row.split(separator: "\t")[0])
        #expect(try await server.request("GET", "/v1/agents", headers: ["x-api-key": key]).status == 200)

        let revoked = try runCLI(["key", "revoke", id, "--data", server.dataRoot.path])
        #expect(revoked.status == 0, "\(revoked.output)")
        // Within a second: a request sent one second after the revocation is refused.
        try await Task.sleep(for: .seconds(1))
        #expect(try await server.request("GET", "/v1/agents", headers: ["x-api-key": key]).status == 401, "the running server refuses the revoked key")
        #expect(try await server.request("GET", "/v1/agents").status == 200, "other keys still work")
        #expect(try runCLI(["key", "revoke", id, "--data", server.dataRoot.path]).status != 0, "an unknown id is an error")
    }
}
