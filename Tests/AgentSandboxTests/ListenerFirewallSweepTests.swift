#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import SandboxKernel
import Testing

/// A starting server deletes the nftables tables of servers that no longer listen. The listing of
/// listeners it reads first (/proc/net/tcp) can miss a live one while other sockets come and go; a port
/// missing from it is asked of the kernel again before its table goes, so a live server keeps its table
/// (and with it the rule that keeps agents off its port).
@Suite(.enabled(if: isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft"), "needs root and nft"))
struct ListenerFirewallSweepTests {
    static func tableExists(_ name: String) throws -> Bool {
        try runProcess("/usr/sbin/nft", ["list", "table", "inet", name]).status == 0
    }

    @Test func aListenerMissingFromTheListingKeepsItsTableWhileADeadPortsTableGoes() throws {
        let live = try LoopbackSocket.listening()
        defer { close(live.descriptor) }
        // Port 1 (tcpmux): nothing listens there on a test machine.
        let liveTable = "agentsandbox_\(live.port)", deadTable = "agentsandbox_1"
        for table in [liveTable, deadTable] {
            #expect(try runProcess("/usr/sbin/nft", ["add", "table", "inet", table]).status == 0)
        }
        defer { for table in [liveTable, deadTable] { _ = try? runProcess("/usr/sbin/nft", ["delete", "table", "inet", table]) } }

        // An empty listing: what a read that skipped every listener would give.
        _ = ListenerFirewall.sweepAbandoned(keeping: "agentsandbox_none", listening: [])

        #expect(try Self.tableExists(liveTable), "the table of a port that is listening stays")
        #expect(try !Self.tableExists(deadTable), "the table of a port nothing listens on is deleted")
    }

    @Test func isListeningAnswersForThePortAlone() throws {
        let live = try LoopbackSocket.listening()
        let port = live.port
        #expect(ListenerFirewall.isListening(port: port))
        close(live.descriptor)
        #expect(!ListenerFirewall.isListening(port: port))
    }
}
