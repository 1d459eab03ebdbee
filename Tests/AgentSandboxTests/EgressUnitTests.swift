@testable import AgentSandbox
@testable import SandboxKernel
import Foundation
import Testing

/// Egress entries, their nftables elements and the DNS reply reader, without a server.
struct EgressUnitTests {
    @Test func entriesAcceptCIDRsAddressesHostNamesStarAndPortRanges() throws {
        let policy = try EgressPolicy.parse(.object(["allow": .array([" PyPI.org:443 ", "203.0.113.0/24", "198.51.100.7:8000-9000", "*:25", "1password.com"].map(JSONValue.string))]))
        #expect(policy.allow == ["pypi.org:443", "203.0.113.0/24", "198.51.100.7:8000-9000", "*:25", "1password.com"])
        #expect(EgressEntry("pypi.org:443") != nil)
        #expect(EgressEntry("203.0.113.9")?.destination == .network(IPv4Network("203.0.113.9/32")!))
    }

    @Test func badEntriesNameTheirIndex() {
        for (entry, index) in [("300.1.2.3", 1), ("example.com:0", 1), ("example.com:9-8", 1), ("::1", 1), ("bad_name.com", 1), ("10.0.0.0/33", 1), ("a..b", 1)] {
            do {
                _ = try EgressPolicy.parse(.object(["deny": .array([.string("ok.com"), .string(entry)])]))
                Issue.record("\(entry) was accepted")
            } catch {
                #expect(error.message.contains("egress.deny[\(index)]"), "\(entry): \(error.message)")
            }
        }
    }

    @Test func resolvedElementsReplaceNamesByAddressesAndKeepPorts() {
        let policy = EgressPolicy(allow: ["a.test:443", "203.0.113.0/24", "gone.test"], deny: ["*:25"])
        let resolved = ResolvedEgress(policy) { $0 == "a.test" ? [0xC633_6401, 0xC633_6402] : [] }
        #expect(resolved.allowNetworks == ["203.0.113.0/24"])
        #expect(resolved.allowServices == ["198.51.100.1 . 443", "198.51.100.2 . 443"])
        #expect(resolved.denyServices == ["0.0.0.0/0 . 25"])
        #expect(resolved.restrictive)
        let script = EgressRules(table: "t", index: 7, interface: "asv7").apply(resolved, allowPrivate: false)
        #expect(script.contains("add element inet t egress_7_ap { 198.51.100.1 . 443, 198.51.100.2 . 443 }"))
        #expect(script.contains("add rule inet t egress_7 ip daddr @egress_7_an return"))
        #expect(script.hasSuffix("add element inet t agent_egress { \"asv7\" : jump egress_7 }\n"))
        #expect(EgressRules(table: "t", index: 7, interface: "asv7").apply(resolved, allowPrivate: true).contains("@egress_7_an accept"))
    }

    @Test func dnsRepliesGiveAddressesAndTheSmallestTTL() {
        // Question "a.test" A IN; a CNAME (TTL 300) then an A record (TTL 30).
        var reply: [UInt8] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0]
        reply += [1, 0x61, 4] + Array("test".utf8) + [0, 0, 1, 0, 1]
        reply += [0xc0, 12, 0, 5, 0, 1, 0, 0, 1, 0x2c, 0, 2, 0xc0, 12]
        reply += [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 203, 0, 113, 10]
        let parsed = DNSLookup.parse(reply)
        #expect(parsed?.addresses == [0xCB00_710A])
        #expect(parsed?.ttl == 30)
        var missing = Array(reply.prefix(12))
        missing[3] = 0x83
        #expect(DNSLookup.parse(missing)?.addresses == [])
    }
}
