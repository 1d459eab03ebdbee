#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// A real cluster on loopback: a PostgreSQL server (the store suite's harness), three nodes — each an
/// `agent-sandbox serve --cluster …` with its own data root and uid range — and two gateways. Nodes
/// heartbeat every 0.3 s and gateways count a node gone after 2 s without one, so failure tests are quick.
final class TestCluster: @unchecked Sendable {
    let databaseURL: String
    let nodes: [TestServer]
    let gateways: [TestServer]
    static let nodeTimeout = 2.0
    /// Every node's and gateway's `--preview-domain`.
    static let previewDomain = "apps.cluster.test"

    init(databaseURL: String, nodeCount: Int = 3, gatewayCount: Int = 2) {
        self.databaseURL = databaseURL
        nodes = (1...nodeCount).map { index in
            TestServer(extraArguments: ["--cluster", databaseURL, "--node-id", "n\(index)", "--heartbeat-interval", "0.3", "--preview-domain", Self.previewDomain])
        }
        gateways = (1...gatewayCount).map { _ in TestServer() }
    }

    /// Starts the nodes (one after the other: the first migrates the schema), then the gateways, which
    /// use the first node's API key (keys live in the shared store: every node's key works everywhere).
    func start() async throws -> TestCluster {
        for node in nodes { try await node.start() }
        for gateway in gateways {
            gateway.apiKey = nodes[0].apiKey
            gateway.launchArguments = ["gateway", "--cluster", databaseURL, "--port", "0", "--node-timeout", String(Self.nodeTimeout),
                                       "--preview-domain", Self.previewDomain]
            try await gateway.start()
        }
        return self
    }

    func stop() {
        for server in gateways + nodes { server.stop() }
    }

    /// The node whose data root holds `agent`'s workspace (the owner, as the disk says).
    func nodeHolding(_ agent: String) -> Int? {
        nodes.indices.first { FileManager.default.fileExists(atPath: nodes[$0].workspace(of: agent).path) }
    }

    /// Polls `GET /v1/nodes` on `gateway` until `node` shows `state`.
    func waitForNode(_ node: String, state: String, via gateway: TestServer, seconds: Double = 30) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let nodes = (try await gateway.request("GET", "/v1/nodes").json["nodes"] as? [[String: Any]]) ?? []
            if nodes.contains(where: { $0["node_id"] as? String == node && $0["state"] as? String == state }) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("node \(node) did not become \(state) within \(seconds) s")
    }
}
