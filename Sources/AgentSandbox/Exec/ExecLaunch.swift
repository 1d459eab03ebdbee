#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation

/// The body of `POST /v1/agents/{id}/exec` after validation against `schemas/exec/start.json`.
public struct ExecStartBody: Decodable, Sendable {
    var command: String
    var background: Bool?
    var cwd: String?
    var env: [String: String]?
    /// Seconds; 0 = none (background only). Foreground default 300.
    var timeout: Double?
    var stdin: String?
    var keepStdinOpen: Bool?
}

/// A validated exec request: everything needed to start the command, checked against the workspace.
public struct ExecLaunch: Sendable {
    public var command: String
    public var background: Bool
    /// Absolute host directory inside the workspace.
    public var directory: String
    public var environment: [String: String]
    /// Seconds before the whole tree is killed; nil for none.
    public var timeout: Double?
    public var stdin: [UInt8]?
    public var keepStdinOpen: Bool

    /// The longest timeout a request may ask for, seconds (a week: sessions are meant to be long-lived).
    static let maximumTimeout: Double = 7 * 24 * 3600

    public init(_ body: ExecStartBody, workspace: Workspace, defaultTimeout: Int) throws(ToolError) {
        guard !body.command.isEmpty, body.command.utf8.count <= 1 << 20, !body.command.utf8.contains(0) else {
            throw ToolError.invalidField("command", "must be a non-empty shell command line (at most 1 MiB, no NUL bytes).")
        }
        command = body.command
        background = body.background ?? false
        keepStdinOpen = body.keepStdinOpen ?? false
        if keepStdinOpen, !background {
            throw ToolError.invalidField("keep_stdin_open", "needs \"background\": true: a foreground command gets its stdin in `stdin`.")
        }
        let requested = body.timeout ?? (background ? 0 : Double(defaultTimeout))
        guard requested.isFinite, requested >= 0, requested <= Self.maximumTimeout, background || requested > 0 else {
            throw ToolError.invalidField("timeout", background
                ? "must be between 0 (no timeout) and \(Int(Self.maximumTimeout)) seconds."
                : "must be between 1 and \(Int(Self.maximumTimeout)) seconds for a foreground command (use a background session for long work).")
        }
        timeout = requested > 0 ? requested : nil
        stdin = body.stdin.map { Array($0.utf8) }
        environment = try workspace.environment(adding: body.env)
        directory = try workspace.directory(body.cwd ?? "", field: "cwd")
        environment["PWD"] = directory
    }

    /// The launcher's request for this command as the workspace's agent.
    func launchRequest(in workspace: Workspace) -> LaunchRequest {
        workspace.launchRequest(
            "/bin/bash", ["-c", command], environment: environment, workingDirectory: directory, stdin: stdin,
            timeout: timeout ?? Self.maximumTimeout)
    }
}
