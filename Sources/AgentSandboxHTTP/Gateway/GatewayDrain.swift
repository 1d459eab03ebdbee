import AgentSandbox
import Hummingbird

/// `POST /v1/nodes/{node}/drain` at a gateway (`agent-sandbox node drain NAME`): marks the node
/// `draining` — placement skips it from now on — and moves each of its agents to the node rendezvous
/// hashing picks among the others, one after the other. Answers with what moved and what did not (with
/// the reason); the node keeps serving the agents that could not move. A node that starts again
/// registers itself `up`.
struct GatewayDrain: Sendable {
    let catalog: AgentCatalog
    let move: GatewayMove

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/nodes/:node/drain") { request, context in
            let node = context.parameters.get("node") ?? ""
            guard try await catalog.directory.setState(.draining, ofNode: node) else {
                throw ToolError(.notFound, "No node '\(node.prefix(64))' in this cluster. GET /v1/nodes lists them.")
            }
            catalog.refreshNodes()
            var moved: [JSONValue] = [], failed: [JSONValue] = []
            for agent in try await catalog.directory.agents(onNode: node) {
                do {
                    _ = try await move.move(agent, to: nil, request: request, context: context)
                    moved.append(.string(agent.rawValue))
                } catch {
                    let reason = (error as? ToolError)?.message ?? "\(error)"
                    failed.append(.object(["agent_id": .string(agent.rawValue), "error": .string(reason)]))
                }
            }
            return Response.json(JSONValue.object([
                "node": .string(node), "state": "draining", "moved": .array(moved), "failed": .array(failed),
            ]))
        }
    }
}
