import AgentSandbox
import Foundation
import Hummingbird

/// `GET /v1/nodes` and its alias `GET /clusters` (the sandbox API our users come from lists clusters
/// there): every node with its state (`up`, `draining`, or `unavailable` once its heartbeat expired),
/// heartbeat age, agents, capacity and load. Read from the shared store on every call (no cache).
/// Served by gateways and cluster nodes alike; a single box lists itself, as node `local`.
struct NodesRoutes: Sendable {
    /// Where the list comes from: the cluster's store, or (single box) this server alone.
    let nodes: @Sendable () async throws -> [ClusterNode]
    let livenessWindow: Double

    init(catalog: AgentCatalog) {
        nodes = { try await catalog.nodes(fresh: true) }
        livenessWindow = catalog.settings.livenessWindow
    }

    init(livenessWindow: Double, nodes: @escaping @Sendable () async throws -> [ClusterNode]) {
        self.nodes = nodes
        self.livenessWindow = livenessWindow
    }

    func addRoutes(to router: Router<some RequestContext>) {
        for path in ["/v1/nodes", "/clusters"] {
            router.get(RouterPath(stringLiteral: path)) { _, _ in
                let nodes = try await nodes().sorted { $0.id < $1.id }
                return Response.json(JSONValue.object(["nodes": .array(nodes.map(json))]))
            }
        }
    }

    func json(_ node: ClusterNode) -> JSONValue {
        let window = livenessWindow
        let now = Date()
        let formatter = ISO8601DateFormatter()
        return .object([
            "node_id": .string(node.id),
            "advertise_url": .string(node.advertiseURL),
            "state": .string(node.displayState(now: now, window: window)),
            "available": .bool(node.isAlive(now: now, window: window)),
            "heartbeat_age_seconds": .number((node.heartbeatAge(now: now) * 1000).rounded() / 1000),
            "heartbeat_at": .string(formatter.string(from: node.heartbeatAt)),
            "started_at": .string(formatter.string(from: node.startedAt)),
            "agents": .number(Double(node.agents)),
            "max_agents": .number(Double(node.maxAgents)),
            "load": .number((node.load * 1000).rounded() / 1000),
            "free_disk_bytes": .number(Double(node.freeDiskBytes)),
        ])
    }
}
