import SandboxKernel

extension SandboxServices {
    /// Previews of agents' servers: namespace connections, listening ports, public links.
    public var previews: PreviewService {
        PreviewService(store: store, configuration: configuration, networks: launcher.networks)
    }
}
