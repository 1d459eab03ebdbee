import ArgumentParser
import Foundation

/// `agent-sandbox`: the server and its admin subcommands.
@main
struct AgentSandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent-sandbox",
        abstract: "A per-agent tool backend for LLM agents: workspaces, uids, bash and file tools over HTTP.",
        subcommands: [ServeCommand.self, GatewayCommand.self, NodeCommand.self, AgentCommand.self, CallCommand.self, KeyCommand.self, ExportCommand.self, ImportCommand.self, TerminalCommand.self, ShellCommand.self, McpCommand.self],
        defaultSubcommand: ServeCommand.self)

    /// ArgumentParser's `main`, except that a `ValidationError` thrown by a subcommand's `run()` shows
    /// that subcommand's usage (`agent-sandbox agent create …`), not the root's `agent-sandbox <subcommand>`.
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ValidationError {
            let type = Swift.type(of: command)
            let path = (commandPath(to: type) ?? [type._commandName]).joined(separator: " ")
            let text = "Error: \(error.message)\nUsage: \(usageString(for: type))\n  See '\(path) --help' for more information.\n"
            FileHandle.standardError.write(Data(text.utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        } catch {
            exit(withError: error)
        }
    }

    /// The names from the root to `target` (`["agent-sandbox", "agent", "create"]`).
    static func commandPath(to target: any ParsableCommand.Type, from node: any ParsableCommand.Type = AgentSandboxCommand.self) -> [String]? {
        if node == target { return [node._commandName] }
        for child in node.configuration.subcommands {
            if let rest = commandPath(to: target, from: child) { return [node._commandName] + rest }
        }
        return nil
    }
}
