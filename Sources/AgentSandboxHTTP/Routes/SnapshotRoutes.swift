import AgentSandbox
import Hummingbird

/// `/v1/agents/{id}/snapshots`: take (`POST`, body `schemas/snapshots/create.json`), list, inspect,
/// delete, and `POST …/snapshots/{snapshot_id}/restore`. Adapters onto `SnapshotService`, each one
/// pipeline call (admitted, audited, counted). Restoring needs an active agent (409 when suspended);
/// the rest works on a suspended one too (a snapshot of a suspended agent needs no freeze).
struct SnapshotRoutes: Sendable {
    let pipeline: CallPipeline
    let snapshots: SnapshotService

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/agents/:agent_id/snapshots") { request, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            let input = try await request.jsonBody(limit: 64 << 10, emptyIsObject: true)
            let call = CallRequest(agentID: id, operation: "snapshots.create", input: input, schema: "snapshots/create", entry: .sandbox)
            let record = try await pipeline.run(call, admission: .anyAgent, bytes: { Int($0.size) }) { admitted in
                try await snapshots.create(admitted.agent, name: admitted.input["name"]?.stringValue)
            }
            return Response.json(record.json, status: .created)
        }
        router.get("/v1/agents/:agent_id/snapshots") { _, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            let list = try await pipeline.run(CallRequest(agentID: id, operation: "snapshots.list", entry: .sandbox), admission: .anyAgent) { _ in
                try await snapshots.list(id)
            }
            let quota = SnapshotQuota(pipeline.configuration.limits)
            return Response.json(JSONValue.object([
                "agent_id": .string(id.rawValue),
                "snapshots": .array(list.map(\.json)),
                "count": .number(Double(list.count)),
                "bytes": .number(Double(list.reduce(0) { $0 + $1.size })),
                "quota": .object(["max_snapshots": .number(Double(quota.maxSnapshots)), "max_bytes": .number(Double(quota.maxBytes))]),
            ]))
        }
        router.get("/v1/agents/:agent_id/snapshots/:snapshot_id") { _, context in
            let (id, snapshotID) = try Self.ids(context)
            let record = try await pipeline.run(CallRequest(agentID: id, operation: "snapshots.get", entry: .sandbox), admission: .anyAgent) { _ in
                try await snapshots.record(snapshotID, of: id)
            }
            return Response.json(record.json)
        }
        router.delete("/v1/agents/:agent_id/snapshots/:snapshot_id") { _, context in
            let (id, snapshotID) = try Self.ids(context)
            let record = try await pipeline.run(CallRequest(agentID: id, operation: "snapshots.delete", entry: .sandbox), admission: .anyAgent) { _ in
                try await snapshots.delete(snapshotID, of: id)
            }
            return Response.json(JSONValue.object(["snapshot_id": .string(record.id), "agent_id": .string(id.rawValue), "deleted": true]))
        }
        router.post("/v1/agents/:agent_id/snapshots/:snapshot_id/restore") { _, context in
            let (id, snapshotID) = try Self.ids(context)
            let call = CallRequest(agentID: id, operation: "snapshots.restore", entry: .sandbox)
            let (record, report) = try await pipeline.run(call, admission: .activeAgent) { admitted in
                try await snapshots.restore(snapshotID, into: admitted.agent)
            }
            return Response.json(JSONValue.object([
                "snapshot_id": .string(record.id),
                "agent_id": .string(id.rawValue),
                "restored": true,
                "files": .number(Double(report.files)),
                "directories": .number(Double(report.directories)),
                "symlinks": .number(Double(report.symlinks)),
                "bytes": .number(Double(report.bytes)),
            ]))
        }
    }

    private static func ids(_ context: some RequestContext) throws -> (AgentID, String) {
        (try AgentID(context.parameters.get("agent_id") ?? ""), context.parameters.get("snapshot_id") ?? "")
    }
}
