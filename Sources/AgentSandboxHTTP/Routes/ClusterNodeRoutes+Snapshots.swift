import AgentSandbox
import Hummingbird

/// A move's copy of the agent's snapshots, node to node (driven by `GatewayMove`, cluster nodes only):
/// `GET /v1/agents/{id}/cluster/snapshots/{snapshot_id}` streams a snapshot's stored archive from the node
/// the agent leaves; `PUT` on the same path stores it on the node it goes to, under the same key. The
/// rows are in the shared store already; only the bytes travel.
extension ClusterNodeRoutes {
    func addSnapshotRoutes(to router: Router<some RequestContext>) {
        router.get("/v1/agents/:agent_id/cluster/snapshots/:snapshot_id") { _, context in
            _ = try requireCluster()
            let (id, snapshotID) = try Self.snapshotIDs(context)
            let (record, download) = try await snapshots.openBlob(snapshotID, of: id)
            let body = ResponseBody(contentLength: Int(record.size)) { writer in
                try await SnapshotService.pump(download) { try await writer.write($0) }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "application/zstd"], body: body)
        }
        router.put("/v1/agents/:agent_id/cluster/snapshots/:snapshot_id") { request, context in
            _ = try requireCluster()
            let (id, snapshotID) = try Self.snapshotIDs(context)
            let record = try await snapshots.receiveBlob(snapshotID, of: id, body: request.body)
            return Response.json(JSONValue.object(["snapshot_id": .string(record.id), "size": .number(Double(record.size))]))
        }
    }

    private static func snapshotIDs(_ context: some RequestContext) throws -> (AgentID, String) {
        (try AgentID(context.parameters.get("agent_id") ?? ""), context.parameters.get("snapshot_id") ?? "")
    }
}
