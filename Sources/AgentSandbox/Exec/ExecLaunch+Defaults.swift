extension ExecLaunch {
    /// The directory an exec starts in: `cwd` when given, else the agent's persistent working directory
    /// (`POST /v1/agents/{id}/cwd`), else the workspace root.
    static func startDirectory(_ cwd: String?, in workspace: Workspace) throws(ToolError) -> String {
        if let cwd { return try workspace.directory(cwd, field: "cwd") }
        guard let persistent = workspace.agent.settings.cwd, !persistent.isEmpty else { return workspace.root }
        do throws(ToolError) {
            return try workspace.directory(persistent, field: "cwd")
        } catch {
            throw ToolError(error.code, "The agent's working directory '\(persistent)' is no longer usable (\(error.message)) Set another with POST /v1/agents/\(workspace.agent.id)/cwd, or pass `cwd`.")
        }
    }

    /// Every command runs as the agent's own uid (one uid per agent is the security model): a `user`
    /// other than the agent — absent, "agent", its uid (number or digits) or its name — is a 400.
    static func checkUser(_ user: JSONValue?, of workspace: Workspace) throws(ToolError) {
        let uid = workspace.agent.identity.uid
        switch user {
        case nil, .null?: return
        case .string(let name)? where name == "agent" || name == workspace.baseEnvironment["USER"] || name == String(uid): return
        case .number(let number)? where number == Double(uid): return
        default:
            let number = user?.doubleValue.map { Int64(exactly: $0).map(String.init) ?? String(describing: $0) }
            let shown = user?.stringValue.map { "'\($0.prefix(64))'" } ?? number ?? "that value"
            throw ToolError.invalidField("user", "asks to run as \(shown), but every command of this agent runs as its own user (\"agent\", uid \(uid)); one uid per agent is the security model, so no other user (root included) is available. Omit `user`.")
        }
    }
}
