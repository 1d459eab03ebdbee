#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// The server's nftables table (NAT and `ct state` chains of isolated networks) turns connection tracking
/// on for the whole namespace; the API's own loopback connections are left out of it (`notrack`), while
/// every other connection is tracked as before.
@Suite(.enabled(if: isRoot && FileManager.default.fileExists(atPath: "/proc/net/nf_conntrack"), "needs root and /proc/net/nf_conntrack"))
struct ListenerConntrackTests {
    @Test func theAPIsLoopbackConnectionsAreNotTrackedWhileOthersAre() async throws {
        let server = try await TestServer.shared.get()
        let other = try LoopbackSocket.listening()
        defer { close(other.descriptor) }
        // Both connections stay open until the table is read.
        let toServer = try LoopbackConnection(port: server.port)
        let toOther = try LoopbackConnection(port: other.port)
        defer { withExtendedLifetime((toServer, toOther)) {} }
        #expect(try await server.request("GET", "/healthz").status == 200)
        #expect(try runProcess("/usr/sbin/nft", ["list", "table", "inet", "agentsandbox_\(server.port)"]).status == 0,
                "the server's table is installed (its isolated-network chains are what turn tracking on)")

        // Read to its end: String(contentsOfFile:) stops after the first page of a /proc file.
        let table = readProcFile("/proc/net/nf_conntrack")
        let tracked = { (port: Int) in table.split(separator: "\n").contains { $0.contains(" dport=\(port) ") } }
        #expect(tracked(other.port), "a loopback connection to another port is tracked (the table turns tracking on)")
        #expect(!tracked(server.port), "no connection to the API port is tracked")
    }
}
