#if canImport(Glibc)
import Glibc
#endif

extension ExecService {
    /// Sets the agent's persistent working directory (`schemas/agents/cwd.json`): an existing directory
    /// inside the workspace (symlinks resolved, never out of it), stored with the agent's settings. An
    /// exec without `cwd` starts there; `""` or `"."` resets it to the root. Answers the agent's record.
    public func setWorkingDirectory(_ agentID: AgentID, input: JSONValue, entry: CallRequest.Entry) async throws(ToolError) -> JSONValue {
        let request = CallRequest(agentID: agentID, operation: "agent.cwd", input: input, schema: "agents/cwd", entry: entry)
        return try await pipeline.run(request, admission: .activeAgent) { admitted in
            let workspace = admitted.workspace
            let resolved = try workspace.directory(admitted.input["path"]?.stringValue ?? "", field: "path")
            let relative = Self.relative(resolved, to: workspace.root)
            let agent = try await pipeline.agents.updateSettings(of: agentID) { $0.cwd = relative.isEmpty ? nil : relative }
            return agent.json()
        }
    }

    /// `path` (a resolved host directory inside the workspace) relative to `root` ("" for the root itself),
    /// whether or not `root` was spelled through a symlink.
    static func relative(_ path: String, to root: String) -> String {
        let canonical = realpath(root, nil).map { pointer in defer { free(pointer) }; return String(cString: pointer) }
        for base in [root, canonical].compactMap({ $0 }).map({ $0.hasSuffix("/") ? String($0.dropLast()) : $0 }) {
            if path == base { return "" }
            if path.hasPrefix(base + "/") { return String(path.dropFirst(base.count + 1)) }
        }
        return ""
    }
}
