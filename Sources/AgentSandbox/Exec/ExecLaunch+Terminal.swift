import SandboxKernel
/// The window of a pseudo-terminal session, validated (`PseudoTerminal.sizeRange` for both).
public struct TerminalSize: Sendable, Equatable {
    public var cols: Int
    public var rows: Int
    /// 80 x 24.
    public static let standard = TerminalSize(checked: PseudoTerminal.defaultSize.cols, PseudoTerminal.defaultSize.rows)

    private init(checked cols: Int, _ rows: Int) {
        self.cols = cols
        self.rows = rows
    }

    public init(cols: Int, rows: Int) throws(ToolError) {
        for (name, value) in [("cols", cols), ("rows", rows)] where !PseudoTerminal.sizeRange.contains(value) {
            throw ToolError.invalidField(name, "must be between \(PseudoTerminal.sizeRange.lowerBound) and \(PseudoTerminal.sizeRange.upperBound).")
        }
        self.cols = cols
        self.rows = rows
    }

    /// The size a start body asks for: nil unless `tty` is true (then 80 x 24 unless given).
    init?(_ body: ExecStartBody) throws(ToolError) {
        guard body.tty == true else {
            if body.cols != nil || body.rows != nil { throw ToolError.invalidField(body.cols != nil ? "cols" : "rows", "applies only to a terminal: add \"tty\": true.") }
            return nil
        }
        try self.init(cols: body.cols ?? PseudoTerminal.defaultSize.cols, rows: body.rows ?? PseudoTerminal.defaultSize.rows)
    }
}

extension ExecLaunch {
    /// What a `tty` session without `command` runs (and the session record shows).
    static let loginShellCommand = "/bin/bash -l"

    /// A terminal session's program: `setsid -w -c` makes the terminal the controlling tty of a new
    /// session inside the sandbox (bubblewrap's `--new-session` just detached it), so the line discipline
    /// delivers Ctrl-C and SIGWINCH to the foreground process group and job control works; it waits for
    /// the shell and exits with its status. The shell is the agent's login shell, or `bash -c command`.
    var terminalArgv: (String, [String]) {
        ("/usr/bin/setsid", ["-w", "-c", "/bin/bash"] + (loginShell ? ["-l"] : ["-c", command]))
    }
}
