import AgentSandbox
import Foundation
import Hummingbird

/// A cluster node's half of a move (driven by a gateway, see `GatewayMove`):
/// `PUT /v1/agents/{id}/cluster/adopt?from=NODE` imports the streamed archive into a fresh workspace
/// under a uid of this node and takes the agent over (owner switched in one transaction);
/// `POST /v1/agents/{id}/cluster/release` drops the copy a node kept after the agent moved away (or the
/// snapshots a failed move had copied to it), and its share blobs whose shares moved with the agent;
/// `…/cluster/snapshots/{sid}` and `…/cluster/shares/{token}` carry the agent's snapshots and shares
/// (see `ClusterNodeRoutes+Snapshots`, `ClusterNodeRoutes+Shares`).
/// On a single box (no cluster) both answer 400. Moves and drains are a gateway's (`GatewayMove`,
/// `GatewayDrain`): on a node those routes answer 400 and say where to send them.
struct ClusterNodeRoutes: Sendable {
    let agents: AgentRegistry
    let moves: (any AgentMoveStore)?
    let snapshots: SnapshotService
    let shares: ShareService
    let configuration: ServerConfiguration

    func addRoutes(to router: Router<some RequestContext>) {
        router.put("/v1/agents/:agent_id/cluster/adopt") { request, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            guard let source = request.uri.queryParameters.get("from"), ClusterNodeName.isValid(source) else {
                throw ToolError.invalidField("from", "must name the node the agent moves from.")
            }
            return try await adopt(id, from: source, body: request.body)
        }
        for path in ["/v1/agents/:agent_id/move", "/v1/nodes/:node/drain"] {
            router.post(RouterPath(stringLiteral: path)) { _, _ -> Response in
                throw ToolError(.invalidRequest, "Moves and drains are made through a cluster gateway (agent-sandbox gateway --cluster …): send this request to the gateway, not to a node.")
            }
        }
        router.post("/v1/agents/:agent_id/cluster/release") { _, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            let moves = try requireCluster()
            do {
                try await agents.release(id)
            } catch {
                await snapshots.dropLocalBlobs(of: id)
                throw error
            }
            await snapshots.dropLocalBlobs(of: id)
            // Shares the move copied to the agent's new node: this node's copies are no one's now. The
            // release stands if pruning fails: the next release on this node prunes every blob left.
            do {
                _ = try await shares.pruneMovedBlobs(moves: moves)
            } catch {
                context.logger.warning("moved shares' blobs not pruned yet (the next release retries): \(error)")
            }
            return Response.json(JSONValue.object(["agent_id": .string(id.rawValue), "released": true]))
        }
        addSnapshotRoutes(to: router)
        addShareRoutes(to: router)
    }

    func requireCluster() throws(ToolError) -> any AgentMoveStore {
        guard let moves else {
            throw ToolError(.invalidRequest, "This server is not a cluster node (serve --cluster …): agents move between nodes through a gateway.")
        }
        return moves
    }

    private func adopt(_ id: AgentID, from source: String, body: RequestBody) async throws -> Response {
        let moves = try requireCluster()
        let first = Int64(configuration.uidBase), last = Int64(configuration.uidBase) + Int64(configuration.uidCount) - 1
        let uid = try await moves.reserveUID(in: first...last)
        let agent = try await agents.prepareAdoption(id, uid: uid)
        let job = WorkspaceArchive.ImportJob(agent: agent, configuration: configuration, mode: .replace, replaced: {})
        var failure: ArchiveError?
        do {
            for try await buffer in body {
                if await !job.push(buffer) { break }
            }
        } catch {
            failure = .cancelled
        }
        switch await job.finish(failure: failure) {
        case .success(let report):
            do {
                try await moves.switchOwner(agent: id, from: source, uid: uid)
            } catch {
                await agents.abandonAdoption(agent)
                throw error
            }
            await agents.adopted(agent)
            var json = report.json(agent: id, mode: .replace)
            if case .object(var fields) = json {
                fields["node"] = .string(moves.moveNodeID)
                fields["uid"] = .number(Double(uid))
                json = .object(fields)
            }
            return Response.json(json)
        case .failure(let error):
            await agents.abandonAdoption(agent)
            throw error
        }
    }
}
