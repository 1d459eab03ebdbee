#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation
import SandboxKernel

/// The body of `POST /v1/agents/{id}/exec` after validation against `schemas/exec/start.json`.
public struct ExecStartBody: Decodable, Sendable {
    /// Required unless `tty` (then the agent's login shell).
    var command: String?
    var background: Bool?
    var cwd: String?
    var env: [String: String]?
    /// Seconds; 0 = none (background only). Foreground default 300.
    var timeout: Double?
    var stdin: String?
    var keepStdinOpen: Bool?
    /// Who to run as: only the agent itself is accepted (absent, "agent", its uid or name).
    var user: JSONValue?
    /// A pseudo-terminal session (`ExecLaunch+Terminal.swift`), `cols` x `rows`.
    var tty: Bool?
    var cols: Int?
    var rows: Int?
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
    /// The window of a `tty: true` session; nil for pipes.
    public var terminal: TerminalSize?
    /// A `tty` session without `command`: the agent's login shell.
    var loginShell = false

    /// The longest timeout a request may ask for, seconds (a week: sessions are meant to be long-lived).
    static let maximumTimeout: Double = 7 * 24 * 3600

    public init(_ body: ExecStartBody, workspace: Workspace, defaultTimeout: Int) throws(ToolError) {
        terminal = try TerminalSize(body)
        loginShell = terminal != nil && body.command == nil
        let command = body.command ?? (loginShell ? Self.loginShellCommand : "")
        guard !command.isEmpty, command.utf8.count <= 1 << 20, !command.utf8.contains(0) else {
            throw ToolError.invalidField("command", "must be a non-empty shell command line (at most 1 MiB, no NUL bytes); only a `tty: true` session may leave it out (it then runs the agent's login shell).")
        }
        self.command = command
        // A terminal is always a session (its stdin stays open for keystrokes).
        background = terminal != nil || (body.background ?? false)
        keepStdinOpen = terminal != nil || (body.keepStdinOpen ?? false)
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
        try Self.checkUser(body.user, of: workspace)
        environment = try workspace.environment(adding: body.env)
        directory = try Self.startDirectory(body.cwd, in: workspace)
        environment["PWD"] = directory
        if terminal != nil, body.env?["TERM"] == nil { environment["TERM"] = "xterm-256color" }
    }

    /// The launcher's request for this command as the workspace's agent.
    func launchRequest(in workspace: Workspace) -> LaunchRequest {
        let (executable, arguments) = terminal != nil ? terminalArgv : ("/bin/bash", ["-c", command])
        return workspace.launchRequest(
            executable, arguments, environment: environment, workingDirectory: directory, stdin: terminal != nil ? nil : stdin,
            timeout: timeout ?? Self.maximumTimeout)
    }
}
