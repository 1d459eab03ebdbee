import Foundation

/// Issue 18's test layout: the server under test runs inside a network namespace the test made ("the
/// machine"), whose only route leads into a second test-made namespace, "the internet" (198.51.100.1,
/// 203.0.113.10/.20/.30, and the addresses agents must not reach: the LAN's 10.99.0.10, metadata's
/// 169.254.169.254, and the host's nameserver address, where it answers DNS — `FakeInternet.program`).
/// The test process reaches the server over a third veth (`astlab<N>`, a /30 of 10.254.254.0/24 that no
/// route of the host covers). Agents' namespaces, veths, nftables table and `ip_forward` all live in the machine:
/// even a firewall bug could not send a packet beyond these namespaces.
final class NetworkLab: @unchecked Sendable {
    let machine: String
    let internet: String
    let link: String
    /// The machine's address on the test's link (where the server listens), and the test's end.
    let machineAddress: String
    let hostAddress: String
    private var processes: [Process] = []

    init(offset: Int) throws {
        let serial = Int(getpid() % 1000) + offset * 1000
        machine = "/run/agent-sandbox/test-machine-\(serial)"
        internet = "/run/agent-sandbox/test-internet-\(serial)"
        link = "astlab\(serial)"
        // The test's link: a /30 of 10.254.254.0/24 that no route of the host covers (the host's own
        // networks must never be shadowed; a default route does not count).
        var base = 4 * (serial % 63)
        for step in 0..<63 {
            let candidate = 4 * ((serial + step) % 63)
            let routes = (try? ArchiveSupport.shell("ip -4 route show match 10.254.254.\(candidate + 1) | grep -v '^default'").output) ?? "x"
            if routes.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { base = candidate; break }
        }
        hostAddress = "10.254.254.\(base + 1)"
        machineAddress = "10.254.254.\(base + 2)"
        tearDown()
        let extra = ["169.254.169.254", "10.99.0.10"] + FakeInternet.otherHosts + (FakeInternet.routedNameserver.map { [$0] } ?? [])
        let script = """
            set -e
            mkdir -p /run/agent-sandbox && touch \(machine) \(internet)
            unshare --net=\(machine) ip link set lo up
            ip link add \(link) type veth peer name lab0 netns \(machine)
            ip addr add \(hostAddress)/30 dev \(link) && ip link set \(link) up
            unshare --net=\(internet) ip link set lo up
            nsenter --net=\(internet) ip link add eth0 type veth peer name inet0 netns \(machine)
            nsenter --net=\(internet) sh -c 'ip addr add \(FakeInternet.address)/24 dev eth0 && ip link set eth0 up
              \(extra.map { "ip addr add \($0)/32 dev lo" }.joined(separator: "\n"))
              ip route add default via \(FakeInternet.hostSide)'
            nsenter --net=\(machine) sh -c 'ip addr add \(machineAddress)/30 dev lab0 && ip link set lab0 up
              ip addr add \(FakeInternet.hostSide)/24 dev inet0 && ip link set inet0 up
              ip route add default via \(FakeInternet.address)'
            """
        let result = try ArchiveSupport.shell(script)
        guard result.status == 0 else { throw TestFailure("network lab: \(result.output)") }
        _ = try start(in: internet, ["/usr/bin/python3", "-c", FakeInternet.program])
        for _ in 0..<200 {
            if (try? ArchiveSupport.shell("nsenter --net=\(internet) ss -ltn 'sport = :8081' | grep -q LISTEN").status) == 0 { return }
            usleep(50_000)
        }
        throw TestFailure("the lab's internet did not start")
    }

    /// What the server runs under: `nsenter` into the machine.
    var wrapper: [String] { ["/usr/bin/nsenter", "--net=\(machine)"] }

    /// Starts `command` inside `namespace` (the machine or the internet); stopped by `tearDown`.
    @discardableResult
    func start(in namespace: String, _ command: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        process.arguments = ["--net=\(namespace)"] + command
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        processes.append(process)
        return process
    }

    /// Runs a shell script inside the machine.
    func inMachine(_ script: String) throws -> (status: Int32, output: String) {
        try ArchiveSupport.shell("nsenter --net=\(machine) sh -c '\(script.replacingOccurrences(of: "'", with: "'\\''"))'")
    }

    /// Stops the lab's programs, removes the namespaces (their veths go with them) and the link.
    func tearDown() {
        for process in processes where process.isRunning {
            // SIGKILL: the child may start with SIGTERM blocked (Foundation's spawn keeps the signal mask).
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        processes = []
        _ = try? ArchiveSupport.shell("""
            ip link del \(link) 2>/dev/null
            umount \(internet) 2>/dev/null; rm -f \(internet)
            umount \(machine) 2>/dev/null; rm -f \(machine); true
            """)
    }
}
