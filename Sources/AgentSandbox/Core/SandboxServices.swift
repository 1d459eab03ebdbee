import Foundation
import Logging

/// Everything a request handler may need, built once at start-up.
public struct SandboxServices: Sendable {
    public let configuration: ServerConfiguration
    public let store: Store
    public let agents: AgentRegistry
    public let tools: ToolRegistry
    public let schemas: SchemaCatalog
    public let launcher: ProcessLauncher
    public let execSessions: ExecSessionManager
    public let keys: APIKeyAuthority
    public let audit: AuditLog
    public let metrics: Metrics
    public let logger: Logger

    /// The workspace of `agent`, ready for tools.
    public func workspace(for agent: Agent) -> Workspace {
        Workspace(agent: agent, launchIdentity: configuration.launchIdentity(for: agent.identity), launcher: launcher, network: agent.settings.network ?? configuration.network,
                  limits: agents.limits(of: agent), rootDescriptor: agents.rootDescriptor(for: agent))
    }
}
