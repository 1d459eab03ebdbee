import Foundation
import Testing

/// `agent-sandbox terminal` and `agent-sandbox shell` against a real server.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct TerminalCLITests {
    /// Runs the CLI with `input` on its stdin (a pipe: not a terminal, so no raw mode); status and output.
    private func runCLI(_ arguments: [String], input: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = TestServer.buildDirectory.appendingPathComponent("agent-sandbox")
        process.arguments = arguments
        let (stdin, stdout) = (Pipe(), Pipe())
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try? stdin.fileHandleForWriting.close()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    @Test func terminalPrintsAReadyURLWithAFreshToken() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let run = try runCLI(["terminal", agent, "--url", server.baseURL, "--api-key", server.apiKey], input: "")
        #expect(run.status == 0, "\(run.output)")
        let url = run.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(url.hasPrefix("\(server.baseURL)/terminal#token=est_") && url.hasSuffix("&agent=\(agent)"), "\(url)")
        let token = String(url.split(separator: "=")[1].split(separator: "&")[0])
        let screen = try #require(try server.openTerminal(agent, token: token).screen, "the printed token opens the terminal")
        try screen.type("exit\r")
        _ = try await offPool { try screen.readToClose() }
    }

    @Test func shellRunsTypedInputAndExitsWithTheShellsStatus() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        let run = try await offPool {
            try self.runCLI(["shell", agent, "--url", server.baseURL, "--api-key", server.apiKey], input: "echo typed-$((20+1))\nexit 4\n")
        }
        #expect(run.status == 4, "\(run.output)")
        #expect(run.output.contains("typed-21"), "\(run.output)")
        let command = try await offPool {
            try self.runCLI(["shell", agent, "--url", server.baseURL, "--api-key", server.apiKey, "--", "sh", "-c", "echo one word; [ -t 0 ] && exit 9"], input: "")
        }
        #expect(command.status == 9, "the command runs in a terminal and its status comes back: \(command.output)")
        #expect(command.output.contains("one word"))
    }
}
