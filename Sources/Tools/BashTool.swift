#if canImport(Glibc)
import Glibc
#endif
import AgentSandbox
import CSandbox

/// `bash`: runs `/bin/bash -c COMMAND` as the agent, in a new session, with a clean environment.
///
/// The call returns when the shell exits; everything it started is killed then (background jobs and
/// `setsid` daemons included — long-lived processes belong in exec sessions). On timeout the whole
/// tree is killed and the partial output is kept (`TIMEOUT`, exit code 124).
public struct BashTool: Tool {
    public struct Input: Decodable, Sendable {
        var command: String
        var timeout: Int
        var workingDir: String
        var env: [String: String]?
        var stdin: String?
    }

    public static let name = "bash"

    public init() {}

    public func run(_ input: Input, context: ToolContext) async throws -> Envelope {
        let workspace = context.workspace
        let directory = try workspace.directory(input.workingDir, field: "working_dir")
        let environment = try workspace.environment(adding: input.env)
        let result = try await workspace.run(
            "/bin/bash", ["-c", input.command], environment: environment, workingDirectory: directory,
            stdin: input.stdin.map { Array($0.utf8) }, timeout: Double(input.timeout))

        var envelope = Envelope(stdout: result.stdout.render(), stderr: result.stderr.render(), exitCode: result.exitCode)
        envelope.extras["duration_ms"] = .number((result.duration * 1000).rounded())
        envelope.extras["truncated"] = .bool(result.stdout.truncated || result.stderr.truncated)
        if result.stdout.truncated || result.stderr.truncated {
            envelope.extras["stdout_bytes"] = .number(Double(result.stdout.totalBytes))
            envelope.extras["stderr_bytes"] = .number(Double(result.stderr.totalBytes))
        }
        if result.timedOut {
            throw ToolError(.timeout, "The command did not finish within \(input.timeout) s and was killed with everything it started. Raise `timeout` (up to 3600), or run long-lived work as a background exec session.", envelope: envelope)
        }
        return envelope
    }
}
