import AgentSandbox
import Hummingbird

/// A move's copy of the agent's shares, node to node (driven by `GatewayMove`, cluster nodes only):
/// `GET /v1/agents/{id}/cluster/shares/{token}` streams a share's content from the node the agent leaves
/// (404 when it is not there); `PUT` on the same path stores it on the node the agent goes to, which
/// checks it against the share's size and SHA-256 and becomes its publisher. The share's link is
/// unchanged; only the bytes and the row's node travel.
extension ClusterNodeRoutes {
    func addShareRoutes(to router: Router<some RequestContext>) {
        let fileIO = FileIO()
        router.get("/v1/agents/:agent_id/cluster/shares/:token") { _, context in
            _ = try requireCluster()
            let (id, token) = try Self.shareIDs(context)
            let (record, path) = try await shares.openForTransfer(token: token, agent: id)
            let body = record.size == 0 ? ResponseBody() : try await fileIO.loadFile(path: path, context: context)
            return Response(status: .ok, headers: [.contentType: "application/octet-stream", .contentLength: String(record.size)], body: body)
        }
        router.put("/v1/agents/:agent_id/cluster/shares/:token") { request, context in
            let moves = try requireCluster()
            let (id, token) = try Self.shareIDs(context)
            let record = try await shares.receive(token: token, agent: id, body: request.body, moves: moves)
            return Response.json(JSONValue.object(["token": .string(record.token), "node": .string(moves.moveNodeID), "size": .number(Double(record.size))]))
        }
    }

    private static func shareIDs(_ context: some RequestContext) throws -> (AgentID, String) {
        (try AgentID(context.parameters.get("agent_id") ?? ""), context.parameters.get("token") ?? "")
    }
}
