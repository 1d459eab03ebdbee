#if canImport(Glibc)
import Glibc
#endif

/// What a launch needs to put a process into its agent's network namespace: the namespace file the
/// helper joins (`--netns`) and the agent's `/etc/resolv.conf`.
public struct NetworkAttachment: Sendable, Equatable {
    public let namespacePath: String
    /// The agent's address and its gateway (the host end of its veth).
    public let address: String
    public let gateway: String
    /// The resolv.conf text, and the path bubblewrap binds it at.
    public let resolvConf: String
    public let resolvConfPath: String
}

/// Builds and tears down one agent's network namespace. Building is one run of the exec helper
/// (`agent-sandbox-exec --make-netns`: unshare, bind, veth pair by netlink, addresses, route and sysctls
/// in one process); removing uses `ip` (iproute2).
struct AgentNamespace {
    let slot: NetworkSlot
    let tools: NetworkTools

    /// Creates the namespace (bound at the slot's file, IPv6 off, loopback up), the veth pair
    /// (`eth0` inside, `asv<N>` outside) with the slot's /31, and the default route via the host end;
    /// the host end gets IPv6 off, `route_localnet` when DNS goes to the host's loopback, its address, up.
    func create(pool: IPv4Network, localnetDNS: Bool) throws {
        let (hostAddress, agentAddress) = slot.addresses(in: pool)
        let file = slot.namespacePath
        let fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw NetworkCommand.Failure(description: "cannot create \(file): \(String(cString: strerror(errno)))") }
        close(fd)
        guard !tools.iproute2Maker else { return try createWithIPRoute2(file: file, host: IPv4Network.format(hostAddress), agent: IPv4Network.format(agentAddress), localnetDNS: localnetDNS) }
        try NetworkCommand.run(tools.helper, [
            "--make-netns", file, slot.interface, IPv4Network.format(agentAddress), IPv4Network.format(hostAddress),
        ] + (localnetDNS ? ["localnet"] : []))
    }

    /// The same with `unshare`, `sh` and `ip` (five programs): how namespaces were made before the
    /// helper did it, kept for `scripts/bench-network`'s same-run comparison (`--network-maker iproute2`).
    private func createWithIPRoute2(file: String, host: String, agent: String, localnetDNS: Bool) throws {
        let inside = """
            set -e
            { echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; } 2>/dev/null || true
            \(tools.ip) -batch - <<'EOF'
            link set lo up
            link add eth0 type veth peer name \(slot.interface) netns /proc/\(getpid())/ns/net
            addr add \(agent)/31 dev eth0
            link set eth0 up
            route add default via \(host) dev eth0
            EOF
            """
        try NetworkCommand.run("/usr/bin/unshare", ["--net=\(file)", "/bin/sh", "-c", inside])
        _ = writeControlFile("/proc/sys/net/ipv6/conf/\(slot.interface)/disable_ipv6", "1")
        if localnetDNS { _ = writeControlFile("/proc/sys/net/ipv4/conf/\(slot.interface)/route_localnet", "1") }
        try NetworkCommand.run(tools.ip, ["-batch", "-"], input: "addr add \(host)/31 dev \(slot.interface)\nlink set \(slot.interface) up\n")
    }

    /// Removes the veth pair (deleting one end deletes both) and unbinds the namespace: once its last
    /// process is gone the kernel frees it. Each step is skipped when already undone.
    func remove() {
        if access("/sys/class/net/\(slot.interface)", F_OK) == 0 {
            try? NetworkCommand.run(tools.ip, ["link", "del", slot.interface])
        }
        let file = slot.namespacePath
        _ = umount2(file, Int32(MNT_DETACH))
        unlink(file)
    }
}

/// Paths of the host tools isolated networking uses (and the exec helper, which makes namespaces);
/// nil from `locate()` when one is missing.
struct NetworkTools: Sendable {
    let ip: String
    let nft: String
    let helper: String
    /// Make namespaces the old way (`unshare` + `ip`), for benchmarks.
    var iproute2Maker = false

    static func locate(helper: String) -> NetworkTools? {
        guard let ip = NetworkCommand.locate("ip"), let nft = NetworkCommand.locate("nft") else { return nil }
        return NetworkTools(ip: ip, nft: nft, helper: helper)
    }
}
