#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing

/// An agent trying to fill the server's disk through `file_share` (issue 13, finding 4): distinct
/// content until the cap, the same content over and over, and short-lived links churned to slip past
/// the count. The share store never holds more than the cap, a bystander keeps answering, and the
/// server stops cleanly on SIGTERM afterwards.
@Suite(.enabled(if: isRoot, "needs root"), .serialized)
struct AdversarialShareTests {
    static let maxBytes = 16 << 20
    static let maxShares = 24

    @Test func sharesCannotFillTheDiskAndABystanderKeepsAnswering() async throws {
        let server = try await TestServer(extraArguments: ["--max-shares-per-agent", String(Self.maxShares), "--share-bytes-per-agent", String(Self.maxBytes)]).start()
        let (attacker, bystander) = (newAgent(), newAgent())
        _ = try await server.bash(attacker, "for i in $(seq 40); do head -c 1048576 /dev/urandom > r$i.bin; done", timeout: 120)
        _ = try await server.bash(bystander, "true")
        let idle = try await echoLatencies(server, bystander, while: { false }, atLeast: 20)

        let done = Atomic<Bool>(false)
        let attack = Task { () throws -> [String] in
            defer { done.store(true, ordering: .relaxed) }
            var codes: [String] = []
            for index in 1...40 {  // 40 MiB of distinct content against a 16 MiB cap
                codes.append(try await server.share(attacker, "r\(index).bin").string("error_code") ?? "ok")
            }
            for _ in 0..<20 {  // the same content again and again
                codes.append(try await server.share(attacker, "r1.bin").string("error_code") ?? "ok")
            }
            for index in 1...20 {  // links that expire at once, to slip past the count
                codes.append(try await server.share(attacker, "r\(index).bin", ["expires_in": 1]).string("error_code") ?? "ok")
            }
            return codes
        }
        let during = try await echoLatencies(server, bystander, while: { !done.load(ordering: .relaxed) }, atLeast: 10)
        let codes = try await attack.value

        #expect(codes.filter { $0 == "ok" }.count == Self.maxShares, "exactly the cap's worth of shares: \(codes)")
        #expect(Set(codes) == ["ok", "SHARE_QUOTA_EXCEEDED"], "\(Set(codes))")
        let stored = server.shareStoreFiles().reduce(Int64(0)) { total, name in
            total + Int64(fileStatus(server.shareStore.appendingPathComponent(name).path)?.st_size ?? 0)
        }
        #expect(stored <= Int64(Self.maxBytes), "the share store holds \(stored) bytes, the cap is \(Self.maxBytes)")
        let storage = try await server.storage(attacker)
        #expect(storage.count == Self.maxShares && (storage.bytes ?? .max) <= Self.maxBytes)

        let report = "share flood: bystander bash echo idle \(summary(idle)); during \(summary(during))"
        print(report)
        #expect(percentile(during, 0.99) < 1000, "\(report)")

        let process = try #require(server.process)
        kill(process.processIdentifier, SIGTERM)
        let stopped = await eventually(within: 15) { !process.isRunning }
        #expect(stopped, "the server stops on SIGTERM")
        if stopped {
            #expect(process.terminationReason == .exit && process.terminationStatus == 0, "a clean exit, not \(process.terminationStatus)")
        } else {
            server.stop(signal: SIGKILL)
        }
    }

    /// `bash echo` round trips of `agent` (ms) while `condition` holds, at least `minimum` of them.
    private func echoLatencies(_ server: TestServer, _ agent: String, while condition: () -> Bool, atLeast minimum: Int) async throws -> [Double] {
        var latencies: [Double] = []
        while latencies.count < minimum || condition() {
            let started = Date()
            let echo = try await server.bash(agent, "echo ok")
            #expect(echo.string("stdout") == "ok\n", "the bystander keeps answering: \(echo.text)")
            latencies.append(Date().timeIntervalSince(started) * 1000)
        }
        return latencies
    }

    private func percentile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }

    private func summary(_ values: [Double]) -> String {
        String(format: "n=%d p50=%.1f ms p99=%.1f ms", values.count, percentile(values, 0.5), percentile(values, 0.99))
    }
}
