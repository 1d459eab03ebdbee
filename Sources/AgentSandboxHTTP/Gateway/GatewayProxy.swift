import AgentSandbox
import Foundation
import Hummingbird

/// The gateway's one use of the reverse proxy (`ReverseProxy`): a request to a node, at its advertised
/// address, with the path rewritten to the canonical agent id. The client's credentials pass through:
/// the node checks them again (keys live in the shared store). Connections to each node are kept alive
/// and reused (`pool`); a node that stops answering has its idle connections dropped (`forget`).
struct GatewayProxy: Sendable {
    let pool: UpstreamPool

    init(pool: UpstreamPool = UpstreamPool()) {
        self.pool = pool
    }

    /// `replayable`: the request's body is held in memory, so it may take a parked connection (and be
    /// sent again on a new one if the node had just closed that).
    func forward(_ request: Request, to node: ClusterNode, path: String, replayable: Bool, context: some RequestContext) async throws -> Response {
        try await ReverseProxy.forward(request, to: try Self.target(node, path: path), pool: pool, replayable: replayable)
    }

    /// Closes the idle connections to `node` (it stopped answering, or its address changed).
    func forget(_ node: ClusterNode) {
        guard let (host, port) = try? Self.address(of: node) else { return }
        pool.drop("\(host):\(port)")
    }

    /// Where `path` goes on `node`.
    static func target(_ node: ClusterNode, path: String) throws(ToolError) -> ProxyTarget {
        let (host, port) = try address(of: node)
        return ProxyTarget(connector: .tcp(host: host, port: port, name: "node '\(node.id)' (\(node.advertiseURL))", timeout: .seconds(3)), pathAndQuery: path)
    }

    /// Host and port of the node's advertised URL (`http://host:port`, port 80 when absent).
    static func address(of node: ClusterNode) throws(ToolError) -> (String, Int) {
        guard let url = URL(string: node.advertiseURL), let host = url.host, !host.isEmpty else {
            throw ToolError(.nodeUnavailable, "Node '\(node.id)' advertises '\(node.advertiseURL)', which is not an http://HOST:PORT URL; restart it with a valid --advertise-url.")
        }
        return (host, url.port ?? 80)
    }
}
