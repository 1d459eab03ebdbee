import AgentSandbox
import Hummingbird

/// `GET /v1/agents/{id}/watch?path=&recursive=true&timeout=`: the workspace's file events as SSE
/// (`WatchEventStream`). `timeout` (seconds, optional) ends the stream cleanly after that long.
struct WatchRoutes: Sendable {
    let watches: WatchService

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/v1/agents/:agent_id/watch") { request, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            let query = request.uri.queryParameters
            let recursive = try Self.flag(query.get("recursive"), name: "recursive", default: true)
            var timeout: Double?
            if let text = query.get("timeout") {
                guard let seconds = Double(text), seconds >= 1, seconds <= 86_400 else {
                    throw ToolError.invalidField("timeout", "must be a number of seconds between 1 and 86400; got '\(text.prefix(40))'.")
                }
                timeout = seconds
            }
            let stream = try await watches.watch(id, path: query.get("path") ?? "", recursive: recursive, entry: .sandbox)
            return WatchEventStream.response(stream, request: request, timeout: timeout)
        }
    }

    static func flag(_ text: String?, name: String, default value: Bool) throws(ToolError) -> Bool {
        switch text?.lowercased() {
        case nil, "": return value
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ToolError.invalidField(name, "must be true or false; got '\(text!.prefix(40))'.")
        }
    }
}
