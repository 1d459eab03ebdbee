import AgentSandbox
import Foundation
import Hummingbird

/// The gateway's one use of the reverse proxy: a request to a node, at its advertised address.
struct GatewayProxy: Sendable {
    func forward(_ request: Request, to node: ClusterNode, path: String, context: some RequestContext) async throws -> Response {
        _ = try Self.address(of: node)
        throw ToolError(.internalError, "proxy not merged yet")
    }

    /// Host and port of the node's advertised URL (`http://host:port`, port 80 when absent).
    static func address(of node: ClusterNode) throws(ToolError) -> (String, Int) {
        guard let url = URL(string: node.advertiseURL), let host = url.host, !host.isEmpty else {
            throw ToolError(.internalError, "Node '\(node.id)' advertises '\(node.advertiseURL)', which is not an http://HOST:PORT URL; restart it with a valid --advertise-url.")
        }
        return (host, url.port ?? 80)
    }
}
