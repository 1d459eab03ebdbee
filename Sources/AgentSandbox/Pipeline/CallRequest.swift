/// One call as the pipeline sees it, whatever shape it arrived in.
public struct CallRequest: Sendable {
    /// The door a call came in by: a label for metrics (and logs), nothing more.
    public enum Entry: String, Sendable {
        case sandbox, toolsCall = "tools_call", workspace, exec, mcp, xpander, seed, terminal, gateway, preview, cli
    }

    public var agentID: AgentID
    /// What runs: a tool name (`bash`) or an operation (`exec.start`, `exec.kill` …).
    public var operation: String
    /// The input as sent (JSON); validated against `schema` before the run.
    public var input: JSONValue
    /// The published schema the input must satisfy (`bash`, `exec/start` …); nil: no body to check.
    public var schema: String?
    public var entry: Entry

    public init(agentID: AgentID, operation: String, input: JSONValue = .object([:]), schema: String? = nil, entry: Entry) {
        self.agentID = agentID
        self.operation = operation
        self.input = input
        self.schema = schema
        self.entry = entry
    }

    /// The operation's name in the audit log and metrics. Bounded: an unknown tool name a client made
    /// up is not a label of its own.
    var auditName: String { operation }
}
