import ArgumentParser

/// `agent-sandbox`: the server and its admin subcommands.
@main
struct AgentSandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent-sandbox",
        abstract: "A per-agent tool backend for LLM agents: workspaces, uids, bash and file tools over HTTP.",
        subcommands: [ServeCommand.self, AgentCommand.self, CallCommand.self, KeyCommand.self, ExportCommand.self, ImportCommand.self],
        defaultSubcommand: ServeCommand.self)
}
