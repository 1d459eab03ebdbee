import HTTPTypes
import NIOCore

/// Where and how one request is forwarded: the upstream, the request target it gets, and what the proxy
/// changes in its head on the way (beyond the hop-by-hop fields, which never pass).
public struct ProxyTarget: Sendable {
    public var connector: UpstreamConnector
    /// The origin-form request target sent upstream: path and query (`/app/main.js?v=3`).
    public var pathAndQuery: String
    /// The `Host` sent upstream; nil keeps the client's. Previews send `localhost:<port>` so dev servers
    /// that allow only local hosts answer; the client's host travels in `X-Forwarded-Host`.
    public var host: String?
    /// The path prefix the proxy removed, sent as `X-Forwarded-Prefix` (apps use it to build links).
    public var prefix: String?
    /// Request fields not forwarded, e.g. the API key that authenticated the request to this server.
    public var removedFields: [HTTPField.Name]
    /// The client's address for `X-Forwarded-For`, when the caller knows it.
    public var clientAddress: String?
    /// How long the upstream may take to send its response head (the body may take as long as it
    /// likes): past it the exchange is `UPSTREAM_UNAVAILABLE`.
    public var responseTimeout: TimeAmount = .seconds(300)

    public init(
        connector: UpstreamConnector, pathAndQuery: String, host: String? = nil, prefix: String? = nil,
        removedFields: [HTTPField.Name] = [], clientAddress: String? = nil
    ) {
        self.connector = connector
        self.pathAndQuery = pathAndQuery.isEmpty ? "/" : pathAndQuery
        self.host = host
        self.prefix = prefix
        self.removedFields = removedFields
        self.clientAddress = clientAddress
    }
}
