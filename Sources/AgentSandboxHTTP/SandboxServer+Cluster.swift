import AgentSandbox
import Logging

extension SandboxServer {
    /// A cluster node's heartbeat (`NodeHeartbeat`), started once the listener's port is known: the
    /// advertised URL defaults to `http://HOST:PORT` of this listener. Nil on a single box.
    static func startHeartbeat(services: SandboxServices, port: Int) -> Task<Void, Never>? {
        let configuration = services.configuration
        guard let cluster = configuration.cluster, let directory = services.store as? any ClusterDirectory else { return nil }
        let identity = NodeIdentity(id: cluster.nodeID, advertiseURL: cluster.advertiseURL, maxAgents: configuration.nodeCapacity)
        let heartbeat = NodeHeartbeat(directory: directory, identity: identity, dataRoot: configuration.dataRoot.path,
                                      interval: cluster.heartbeatInterval, logger: services.logger)
        let url = configuration.listenerURL(port: port)
        if cluster.advertiseURL == nil, ["0.0.0.0", "::", ""].contains(configuration.host) {
            services.logger.warning("cluster node listens on \(configuration.host) and advertises \(url): pass --advertise-url so gateways on other machines reach it")
        }
        return Task { await heartbeat.run(advertiseURL: url) }
    }
}
