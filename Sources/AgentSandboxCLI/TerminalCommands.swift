#if canImport(Glibc)
import Glibc
#endif
import AgentSandbox
import ArgumentParser
import Dispatch
import Foundation
import SandboxKernel

/// `agent-sandbox terminal AGENT`: mints an exec token and prints the web terminal's URL (open it in a
/// browser within the token's ttl; it opens one connection).
struct TerminalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "terminal", abstract: "Print a ready web-terminal URL for an agent (mints a single-use exec token).")

    @OptionGroup var server: ServerOptions

    @Argument(help: "The agent's id (a UUID).")
    var agentID: String

    @Option(help: "Seconds the link may wait to be opened (1-600).")
    var ttl: Int = 60

    @Option(help: "Run this command instead of the agent's login shell.")
    var command: String?

    func run() async throws {
        var body: [String: Any] = ["tty": true, "ttl": ttl]
        if let command { body["command"] = command }
        let reply = try await server.fetch("POST", "/v1/agents/\(agentID.lowercased().escapedPathComponent)/exec-token", body: try JSONSerialization.data(withJSONObject: body))
        guard reply.status == 200, let json = try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any], let url = json["terminal_url"] as? String else {
            throw ServerError(status: reply.status, body: reply.body)
        }
        print(url)
    }
}

/// `agent-sandbox shell AGENT [-- CMD…]`: attaches this terminal to a new terminal session of the agent
/// (like `docker exec -it`): raw mode, window size sent at start and on SIGWINCH, the session's exit
/// status as this command's.
struct ShellCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell", abstract: "Open an interactive shell (or CMD) in an agent's sandbox from this terminal.")

    @OptionGroup var server: ServerOptions

    @Argument(help: "The agent's id (a UUID).")
    var agentID: String

    @Argument(parsing: .postTerminator, help: "A command to run instead of the login shell.")
    var command: [String] = []

    func run() async throws {
        let agent = agentID.lowercased()
        let interactive = isatty(0) == 1
        let size = PseudoTerminal.windowSize(of: 1) ?? PseudoTerminal.windowSize(of: 0) ?? PseudoTerminal.defaultSize
        var body: [String: Any] = ["tty": true, "cols": size.cols, "rows": size.rows]
        if !command.isEmpty { body["command"] = command.map(ShellQuoting.quote).joined(separator: " ") }
        let reply = try await server.fetch("POST", "/v1/agents/\(agent.escapedPathComponent)/exec-token", body: try JSONSerialization.data(withJSONObject: body))
        guard reply.status == 200, let json = try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any], let token = json["token"] as? String else {
            throw ServerError(status: reply.status, body: reply.body)
        }
        let base = try server.endpoint("/v1/agents/\(agent.escapedPathComponent)/terminal").absoluteString
        guard let url = URL(string: base.replacingOccurrences(of: "http://", with: "ws://")) else { throw ValidationError("Invalid --url '\(server.url)'.") }
        let socket = try TerminalSocket(url: url, protocols: ["agent-sandbox.terminal", "token." + token])
        let raw = interactive ? RawMode(fd: 0) : nil
        let status = ShellSession(socket: socket).run()
        raw?.restore()
        Foundation.exit(status)
    }
}

/// The two directions of an attached shell: keystrokes (and SIGWINCH) up, output down.
struct ShellSession {
    let socket: TerminalSocket

    /// Runs until the session ends; its exit status (255 when the connection dropped without one).
    func run() -> Int32 {
        let winch = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global())
        signal(SIGWINCH, SIG_IGN)
        winch.setEventHandler { [socket] in
            guard let size = PseudoTerminal.windowSize(of: 1) else { return }
            try? socket.send(text: "{\"type\":\"resize\",\"cols\":\(size.cols),\"rows\":\(size.rows)}")
        }
        winch.resume()
        let input = Thread { [socket] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = retryingEINTR { buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) } }
                guard count > 0 else { return }  // local EOF: the remote shell keeps its terminal
                guard (try? socket.send(binary: Array(buffer[..<count]))) != nil else { return }
            }
        }
        input.start()
        var status: Int32 = 255
        loop: while true {
            guard let message = try? socket.receive() else { break }
            switch message {
            case .binary(let bytes):
                bytes.withUnsafeBytes { pointer in
                    _ = writeFully(1, pointer)
                }
            case .text(let text):
                let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
                if json?["type"] as? String == "exit", let code = json?["exit_code"] as? Int { status = Int32(code) }
            case .close(let code):
                if (4000..<4256).contains(code) { status = Int32(code - 4000) }
                break loop
            }
        }
        winch.cancel()
        return status
    }
}

/// The local terminal in raw mode (no echo, no line editing, no signals from keys: Ctrl-C goes to the
/// remote shell) until `restore`.
final class RawMode {
    private let fd: Int32
    private var saved = termios()

    init?(fd: Int32) {
        self.fd = fd
        guard tcgetattr(fd, &saved) == 0 else { return nil }
        var raw = saved
        cfmakeraw(&raw)
        tcsetattr(fd, TCSANOW, &raw)
    }

    func restore() {
        var original = saved
        tcsetattr(fd, TCSANOW, &original)
    }
}
