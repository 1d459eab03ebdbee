import AgentSandbox
import Foundation
import Hummingbird

/// The gateway's one use of the reverse proxy (`ReverseProxy`): a request to a node, at its advertised
/// address, with the path rewritten to the canonical agent id. The client's credentials pass through:
/// the node checks them again (keys live in the shared store).
struct GatewayProxy: Sendable {
    func forward(_ request: Request, to node: ClusterNode, path: String, context: some RequestContext) async throws -> Response {
        try await ReverseProxy.forward(request, to: try Self.target(node, path: path))
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
