#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// Attacks on the HTTP listener itself, without an API key or from inside an agent: connection floods,
/// slow heads, malformed bytes, oversized bodies. Every one gets an answer or a close — never a hang,
/// never a 500 — and a bystander agent's `bash echo` keeps answering.
@Suite(.enabled(if: isRoot, "needs root"), .serialized)
struct AdversarialListenerTests {
    static let attacks = TestServer.repositoryRoot.appendingPathComponent("scripts/listener_attacks.py").path

    /// The last JSON line the attack script printed.
    struct Report: @unchecked Sendable, CustomStringConvertible {
        let fields: [String: Any]
        subscript(_ key: String) -> Any? { fields[key] }
        var description: String { "\(fields)" }
    }

    /// Runs the attack script; its last JSON line.
    static func attack(_ arguments: [String]) throws -> Report {
        let run = try runProcess("/usr/bin/env", ["python3", attacks] + arguments, stderrToo: false)
        let line = String(decoding: run.output, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        return Report(fields: (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? ["unparsed": line])
    }

    static func probe(_ server: TestServer, _ name: String, timeout: Double = 10) throws -> Report {
        try attack(["probe", "--port", String(server.port), "--key", server.apiKey, "--case", name, "--timeout", String(timeout)])
    }

    @Test(arguments: [
        ("garbage", 400), ("unknown_method", 400), ("header_1mib", 431), ("headers_10k", 431), ("url_1mib", 414),
        ("content_length_negative", 400), ("chunk_size_huge", 400), ("chunk_size_not_hex", 400), ("chunk_over_limit", 413),
    ])
    func malformedInputIsAnsweredWithItsStatusAndClosedPromptly(_ name: String, _ status: Int) async throws {
        let server = try await TestServer.shared.get()
        let result = try Self.probe(server, name)
        #expect(result["status"] as? Int == status, "\(name): \(result)")
        #expect(result["closed"] as? Bool == true, "\(name): the connection is closed: \(result)")
        #expect((result["seconds"] as? Double ?? 99) < 4, "\(name): answered and closed promptly: \(result)")
        #expect((result["body"] as? String)?.contains("error_code") == true, "\(name): an envelope: \(result)")
    }

    @Test func unknownAndWrongMethodsAreNever5xxAndAKnownPathAnswers405WithAllow() async throws {
        let server = try await TestServer.shared.get()
        let trace = try Self.probe(server, "trace", timeout: 1)
        #expect(trace["status"] as? Int == 405, "\(trace)")
        #expect((trace["headers"] as? [String: String])?["allow"] == "GET, HEAD", "\(trace)")
        let unknownPath = try Self.probe(server, "trace_unknown_path", timeout: 1)
        #expect(unknownPath["status"] as? Int == 404, "\(unknownPath)")
        let put = try await server.request("PUT", "/v1/agents")
        #expect(put.status == 405)
        #expect(put.headers["allow"] == "GET, HEAD, POST", "\(put.headers)")
        #expect(put.string("error_code") == "METHOD_NOT_ALLOWED")
        for method in ["DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "PROPFIND"] {
            let reply = try await server.request(method, "/v1/agents/\(newAgent())/sandbox/bash")
            #expect((400..<500).contains(reply.status), "\(method): \(reply.status) \(reply.text)")
        }
    }

    /// Whether the `python3` on PATH has the `requests` package.
    static let pythonHasRequests = (try? runProcess("/usr/bin/env", ["python3", "-c", "import requests"]).status) == 0

    @Test func aBodyOverTheLimitSentWithoutExpectGets413WithPythonURLLib() async throws {
        try await expect413(client: "urllib")
    }

    @Test(.enabled(if: pythonHasRequests, "python3 has no requests package"))
    func aBodyOverTheLimitSentWithoutExpectGets413WithPythonRequests() async throws {
        try await expect413(client: "requests")
    }

    private func expect413(client: String) async throws {
        let server = try await TestServer.shared.get()
        let result = try Self.attack(["urllib", "--client", client, "--port", String(server.port), "--key", server.apiKey, "--bytes", String(11 << 20)])
        #expect(result["status"] as? Int == 413, "\(client) reads the 413, not a reset or a timeout: \(result)")
        #expect((result["seconds"] as? Double ?? 99) < 5, "\(client): \(result)")
    }

    @Test func expectContinueIsAnsweredAtOnceOrRefusedWithTheFinalStatus() async throws {
        let server = try await TestServer.shared.get()
        let upload = FileManager.default.temporaryDirectory.appendingPathComponent("upload-\(UUID().uuidString).bin")
        try Data(repeating: 0x61, count: 2 << 20).write(to: upload)
        defer { try? FileManager.default.removeItem(at: upload) }
        func curl(_ extra: [String]) throws -> (status: String, seconds: Double, trace: String) {
            let run = try runProcess("/usr/bin/curl", ["-sS", "-v", "--expect100-timeout", "5", "-o", "/dev/null", "-w", "%{http_code} %{time_total}",
                                                      "-X", "PUT", "--data-binary", "@\(upload.path)", "-H", "Expect: 100-continue"] + extra)
            let text = String(decoding: run.output, as: UTF8.self)
            let summary = text.split(separator: "\n").last.map(String.init) ?? ""
            let fields = summary.split(separator: " ").suffix(2)
            return (String(fields.first ?? ""), Double(fields.last ?? "") ?? 99, text)
        }
        let archiveURL = "\(server.baseURL)/v1/agents/\(newAgent())/archive?mode=merge"
        let accepted = try curl(["-H", "x-api-key: \(server.apiKey)", archiveURL])
        #expect(accepted.trace.contains("HTTP/1.1 100 Continue"), "100 Continue is sent: \(accepted.trace)")
        #expect(accepted.seconds < 2, "curl did not wait for its 5 s expect timeout: \(accepted.seconds) s")
        #expect(accepted.status == "400", "the body was read (and is not an archive): \(accepted.status)")

        let noKey = try curl([archiveURL])
        #expect(noKey.status == "401" && noKey.seconds < 2, "\(noKey.trace)")
        #expect(!noKey.trace.contains("100 Continue"))
        try Data(repeating: 0x61, count: 11 << 20).write(to: upload)
        let tooLarge = try curl(["-H", "x-api-key: \(server.apiKey)", "\(server.baseURL)/v1/agents/\(newAgent())/sandbox/bash"])
        #expect(tooLarge.status == "413" && tooLarge.seconds < 2, "\(tooLarge.trace)")
    }

    @Test func aPortInUseIsASentenceNamingTheAddressAndTheFlagBeforeAnyKeyIsPrinted() async throws {
        let (holder, port) = try LoopbackSocket.listening()
        defer { close(holder) }
        let server = TestServer()
        let run = try runCLI(["serve", "--port", String(port), "--data", server.dataRoot.path, "--uid-base", String(server.uidBase), "--uid-count", "10"])
        #expect(run.status == 2)
        #expect(run.output.contains("127.0.0.1:\(port) is already in use") && run.output.contains("--port"), "\(run.output)")
        #expect(!run.output.contains("API key"), "nothing was set up before the check: \(run.output)")
    }

    @Test func aSecondServerOnAnOverlappingUIDRangeIsRefused() async throws {
        let running = try await TestServer.shared.get()
        let other = TestServer()
        let run = try runCLI(["serve", "--port", "0", "--data", other.dataRoot.path, "--uid-base", String(running.uidBase + 100), "--uid-count", "1000"])
        #expect(run.status == 2)
        #expect(run.output.contains("overlap") && run.output.contains("--uid-base"), "\(run.output)")
    }

    /// Floods of idle and half-sent-header connections from two peer addresses, and a connection loop
    /// inside an agent's own bash call, while a bystander agent echoes; then a clean SIGTERM.
    @Test func connectionFloodsAreCappedTimedOutAndRefusedToAgentsWhileABystanderAnswers() async throws {
        let server = try await TestServer(extraArguments: [
            "--max-connections", "1500", "--max-connections-per-peer", "400", "--header-timeout", "2", "--idle-timeout", "3",
        ]).start()
        let bystander = newAgent()
        let attacker = newAgent()
        _ = try await server.bash(bystander, "true")
        _ = try await server.bash(attacker, "true")
        var idleLatencies: [Double] = []
        for _ in 0..<20 { idleLatencies.append(try await timedEcho(server, bystander)) }

        let port = String(server.port)
        async let idleFlood = Task.detached { try Self.attack(["flood", "--port", port, "--mode", "idle", "--count", "2000", "--source", "127.0.0.2", "--seconds", "8"]) }.value
        async let slowFlood = Task.detached { try Self.attack(["flood", "--port", port, "--mode", "slow", "--count", "2000", "--source", "127.0.0.3", "--seconds", "8"]) }.value
        async let fromAgent = server.bash(attacker, """
            python3 -c '
            import socket
            reached = refused = 0
            for _ in range(3000):
                s = socket.socket()
                try:
                    s.connect(("127.0.0.1", \(port))); reached += 1
                except OSError:
                    refused += 1
                s.close()
            print(reached, refused)'
            """, timeout: 60)
        try await Task.sleep(for: .seconds(1))
        var attackLatencies: [Double] = []
        var peakDescriptors = 0
        let until = Date().addingTimeInterval(5)
        while Date() < until {
            attackLatencies.append(try await timedEcho(server, bystander))
            peakDescriptors = max(peakDescriptors, (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd").count) ?? 0)
        }
        let (idle, slow, agent) = try await (idleFlood, slowFlood, fromAgent)

        #expect(agent.string("stdout") == "0 3000\n", "every connection from the agent is refused: \(agent.text)")
        #expect((idle["connected"] as? Int ?? 0) >= 400, "the flood did open connections: \(idle)")
        #expect(peakDescriptors < 1500, "connections stay under the per-peer caps (peak \(peakDescriptors) descriptors)")
        // Held 8 s after the last one opened: longer than both timeouts, so none may still be open.
        #expect(slow["closed_by_server"] as? Int == slow["connected"] as? Int, "half-sent heads are cut (header timeout or cap): \(slow)")
        #expect(idle["closed_by_server"] as? Int == idle["connected"] as? Int, "idle connections are cut (idle timeout or cap): \(idle)")
        let log = (try? String(contentsOfFile: server.logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("per-peer connection cap reached"), "the cap is logged")
        #expect(log.components(separatedBy: "connection cap reached").count < 20, "and the log line is rate-limited")
        let p99 = attackLatencies.sorted()[attackLatencies.count * 99 / 100]
        print(String(format: "listener flood: bystander echo p50 idle %.1f ms, under attack %.1f ms, p99 under attack %.1f ms (n=%d)",
                     idleLatencies.sorted()[idleLatencies.count / 2], attackLatencies.sorted()[attackLatencies.count / 2], p99, attackLatencies.count))
        #expect(p99 < 1000, "bystander p99 \(p99) ms")

        let process = try #require(server.process)
        kill(server.pid, SIGTERM)
        let stopped = await eventually(within: 10) { !process.isRunning }
        #expect(stopped, "the server stops on SIGTERM")
        if stopped { #expect(process.terminationStatus == 0) }
        let table = try runProcess("/usr/sbin/nft", ["list", "table", "inet", "agentsandbox_\(port)"])
        #expect(table.status != 0, "the nftables table is removed on shutdown")
    }

    /// Under a 256-descriptor limit the connection caps stay well below it: floods from two addresses
    /// fill their slots, yet `/healthz` and a bystander's calls still get descriptors and answer.
    @Test func atItsOpenFileLimitTheServerStillAnswersHealthAndCalls() async throws {
        let server = try await TestServer(wrapper: ["/usr/bin/prlimit", "--nofile=256:256", "--"]).start()
        let bystander = newAgent()
        _ = try await server.bash(bystander, "true")
        let port = String(server.port)
        async let first = Task.detached { try Self.attack(["flood", "--port", port, "--count", "600", "--source", "127.0.0.2", "--seconds", "4"]) }.value
        async let second = Task.detached { try Self.attack(["flood", "--port", port, "--count", "600", "--source", "127.0.0.3", "--seconds", "4"]) }.value
        try await Task.sleep(for: .seconds(1.5))
        var peakDescriptors = 0
        for _ in 0..<10 {
            #expect(try await server.request("GET", "/healthz").status == 200)
            _ = try await timedEcho(server, bystander)
            peakDescriptors = max(peakDescriptors, (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd").count) ?? 0)
        }
        _ = try await (first, second)
        #expect(peakDescriptors < 200, "connections leave a reserve below the 256 limit (peak \(peakDescriptors))")
        let log = (try? String(contentsOfFile: server.logPath, encoding: .utf8)) ?? ""
        #expect(log.contains("at most 64 connections (16 per peer address) of 256 open files"), "caps derived from the limit")
        #expect(!log.contains("Too many open files"), "no call ran out of descriptors")
        server.stop()
    }

    private func timedEcho(_ server: TestServer, _ agent: String) async throws -> Double {
        let started = Date()
        let reply = try await server.bash(agent, "echo ok")
        #expect(reply.string("stdout") == "ok\n", "the bystander keeps answering: \(reply.text)")
        return Date().timeIntervalSince(started) * 1000
    }
}
