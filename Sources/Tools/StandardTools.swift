import AgentSandbox

/// The tools every server offers.
public enum StandardTools {
    public static func registry() -> ToolRegistry {
        var registry = ToolRegistry()
        registry.register(BashTool())
        registry.register(FileReadTool())
        registry.register(FileWriteTool())
        registry.register(FileEditTool())
        registry.register(MultiEditTool())
        registry.register(GlobTool())
        registry.register(GrepTool())
        registry.register(FileShareTool())
        return registry
    }
}
