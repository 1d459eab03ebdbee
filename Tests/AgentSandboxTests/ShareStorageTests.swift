import AgentSandbox
import Foundation
import Testing

/// Content-addressed share storage and the per-agent share cap, against a real server: one blob per
/// distinct content, blobs removed with their last share (revoke, expiry, agent delete), and
/// `SHARE_QUOTA_EXCEEDED` past the cap on count or bytes.
@Suite(.enabled(if: isRoot, "needs root to switch uids"), .serialized)
struct ShareStorageTests {
    static let maxShares = 50
    static let maxBytes = 4 << 20
    /// Its own server: the tests count files in its share store, and it runs with a small byte cap.
    static let server = SharedServer(arguments: ["--max-shares-per-agent", String(maxShares), "--share-bytes-per-agent", String(maxBytes)])

    @Test func sharingTheSameMiBFiftyTimesStoresOneBlob() async throws {
        let server = try await Self.server.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "head -c 1048576 /dev/urandom > big.bin && for i in 1 2 3 4 5; do cp big.bin copy$i.bin; done")
        let content = try #require(FileManager.default.contents(atPath: server.workspace(of: agent).appendingPathComponent("big.bin").path))
        let before = server.shareStoreFiles().count
        var urls: [String] = []
        var hashes: Set<String> = []
        var inodes: Set<UInt> = []
        for index in 0..<50 {
            let reply = try await server.share(agent, index % 6 == 0 ? "big.bin" : "copy\(index % 6).bin")
            #expect(reply.string("status") == "ok", "\(reply.text)")
            urls.append(try #require(reply.string("url")))
            let sha = try #require(reply.string("sha256"))
            hashes.insert(sha)
            inodes.insert(try #require(fileStatus(server.blobPath(sha))).st_ino)
        }
        #expect(hashes.count == 1)
        #expect(inodes.count == 1, "the blob is never rewritten: its inode stays")
        let sha = try #require(hashes.first)
        #expect(server.shareStoreFiles().count - before == 1, "one blob for fifty shares: \(server.shareStoreFiles())")
        #expect(FileManager.default.fileExists(atPath: server.blobPath(sha)))

        for url in [urls[0], urls[49]] {
            let (status, body, headers) = try await server.download(url)
            #expect(status == 200 && body == content)
            #expect(headers["content-length"] == "1048576")
            #expect(headers["etag"] == "\"\(sha)\"")
        }
        let range = try await server.download(urls[7], headers: ["Range": "bytes=10-19"])
        #expect(range.status == 206 && range.body == content[10..<20])
        #expect(range.headers["content-range"] == "bytes 10-19/1048576")

        let storage = try await server.storage(agent)
        #expect(storage.count == 50)
        #expect(storage.bytes == 1 << 20, "the content counts once")
        #expect(storage.total == (storage.workspace ?? -1) + (1 << 20), "disk use = workspace + shares")
    }

    @Test func capOnShareCountAnswersQuotaExceeded() async throws {
        let server = try await Self.server.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "for i in $(seq 51); do echo \"file $i\" > f$i.txt; done")
        var tokens: [String] = []
        for index in 1...Self.maxShares {
            let reply = try await server.share(agent, "f\(index).txt")
            tokens.append(try #require(reply.string("token"), "\(reply.text)"))
        }
        let files = server.shareStoreFiles().count
        let refused = try await server.share(agent, "f51.txt")
        #expect(refused.status == 200, "a tool-level error")
        #expect(refused.string("status") == "error")
        #expect(refused.string("error_code") == "SHARE_QUOTA_EXCEEDED")
        #expect(refused.string("error")?.contains("DELETE /v1/agents/\(agent)/shares/") == true, "says how to fix it: \(refused.text)")
        #expect(server.shareStoreFiles().count == files, "a refused share leaves nothing in the store")

        #expect(try await server.request("DELETE", "/v1/agents/\(agent)/shares/\(tokens[0])").status == 200)
        #expect(try await server.share(agent, "f51.txt").string("status") == "ok", "revoking one makes room")
        #expect(try await server.storage(agent).count == Self.maxShares)
    }

    @Test func capOnShareBytesAnswersQuotaExceededAndCountsContentOnce() async throws {
        let server = try await Self.server.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "head -c 3145728 /dev/urandom > a.bin && cp a.bin a-copy.bin && head -c 2097152 /dev/urandom > b.bin")
        let first = try await server.share(agent, "a.bin")
        #expect(first.string("status") == "ok", "\(first.text)")
        let over = try await server.share(agent, "b.bin")
        #expect(over.string("error_code") == "SHARE_QUOTA_EXCEEDED", "3 MiB + 2 MiB > 4 MiB: \(over.text)")
        #expect(over.string("error")?.contains("DELETE /v1/agents/\(agent)/shares/") == true)
        let again = try await server.share(agent, "a-copy.bin")
        #expect(again.string("status") == "ok", "content the agent already shares adds nothing: \(again.text)")
        #expect(try await server.storage(agent).bytes == 3 << 20)

        for token in [first, again].compactMap({ $0.string("token") }) {
            #expect(try await server.request("DELETE", "/v1/agents/\(agent)/shares/\(token)").status == 200)
        }
        #expect(try await server.share(agent, "b.bin").string("status") == "ok")
        let storage = try await server.storage(agent)
        #expect(storage.count == 1 && storage.bytes == 2 << 20)
    }

    @Test func revokingOneOfTwoSharesOfTheSameContentKeepsTheOtherDownloadable() async throws {
        let server = try await Self.server.get()
        let (first, second) = (newAgent(), newAgent())
        let text = "same content \(UUID())\n"
        for agent in [first, second] { _ = try await server.write(agent, "same.txt", text) }
        let a = try await server.share(first, "same.txt")
        let b = try await server.share(second, "same.txt")
        let sha = try #require(a.string("sha256"))
        #expect(b.string("sha256") == sha)
        let (urlA, urlB) = (try #require(a.string("url")), try #require(b.string("url")))

        #expect(try await server.request("DELETE", "/v1/agents/\(first)/shares/\(shareToken(urlA))").status == 200)
        #expect(try await server.download(urlA).status == 404)
        let kept = try await server.download(urlB)
        #expect(kept.status == 200 && kept.body == Data(text.utf8) && kept.headers["etag"] == "\"\(sha)\"")
        #expect(FileManager.default.fileExists(atPath: server.blobPath(sha)), "the other share still holds the blob")

        #expect(try await server.request("DELETE", "/v1/agents/\(second)/shares/\(shareToken(urlB))").status == 200)
        #expect(!FileManager.default.fileExists(atPath: server.blobPath(sha)), "the last revoke removes the blob")
        #expect(try await server.download(urlB).status == 404)
    }

    @Test func expiryRemovesTheBlobOfTheLastExpiredShare() async throws {
        let server = try await Self.server.get()
        let agent = newAgent()
        _ = try await server.write(agent, "kept.txt", "kept \(UUID())")
        _ = try await server.write(agent, "brief.txt", "brief \(UUID())")
        let shortOfKept = try await server.share(agent, "kept.txt", ["expires_in": 1])
        let longOfKept = try await server.share(agent, "kept.txt")
        let brief = try await server.share(agent, "brief.txt", ["expires_in": 1])
        let (keptSha, briefSha) = (try #require(longOfKept.string("sha256")), try #require(brief.string("sha256")))
        #expect(FileManager.default.fileExists(atPath: server.blobPath(briefSha)))
        try await Task.sleep(for: .milliseconds(1300))

        #expect(try await server.download(try #require(brief.string("url"))).status == 404, "expired")
        #expect(!FileManager.default.fileExists(atPath: server.blobPath(briefSha)), "the expired share's blob is gone")
        #expect(try await server.download(try #require(shortOfKept.string("url"))).status == 404)
        #expect(try await server.download(try #require(longOfKept.string("url"))).status == 200, "a live share of the same content keeps it")
        #expect(FileManager.default.fileExists(atPath: server.blobPath(keptSha)))
        #expect(try await server.storage(agent).count == 1)
    }

    @Test func deletingTheAgentRemovesItsBlobsButNotContentOthersShare() async throws {
        let server = try await Self.server.get()
        let (leaving, staying, bystander) = (newAgent(), newAgent(), newAgent())
        let common = "common \(UUID())"
        _ = try await server.write(leaving, "own.txt", "own \(UUID())")
        for agent in [leaving, staying] { _ = try await server.write(agent, "common.txt", common) }
        let own = try #require(try await server.share(leaving, "own.txt").string("sha256"))
        let leavingCommon = try #require(try await server.share(leaving, "common.txt").string("url"))
        let stayingCommon = try await server.share(staying, "common.txt")
        let commonSha = try #require(stayingCommon.string("sha256"))

        #expect(try await server.request("DELETE", "/v1/agents/\(leaving)").status == 200)
        #expect(!FileManager.default.fileExists(atPath: server.blobPath(own)), "its own blob is gone")
        #expect(try await server.download(leavingCommon).status == 404)
        #expect(FileManager.default.fileExists(atPath: server.blobPath(commonSha)))
        #expect(try await server.download(try #require(stayingCommon.string("url"))).body == Data(common.utf8))
        #expect(try await server.bash(bystander, "echo ok").string("stdout") == "ok\n", "a bystander keeps answering")
    }
}

extension ShareStorageTests {
    /// Six agents share, download and revoke the same content at once, over and over: a revoke that frees
    /// the blob never takes it from a share made at the same moment.
    @Test func revokeRacingANewShareOfTheSameContentNeverLosesTheBlob() async throws {
        let server = try await Self.server.get()
        let agents = (0..<6).map { _ in newAgent() }
        let text = "raced \(UUID())\n"
        for agent in agents { _ = try await server.write(agent, "x.txt", text) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for agent in agents {
                group.addTask {
                    for _ in 0..<25 {
                        let url = try #require(try await server.share(agent, "x.txt").string("url"))
                        let download = try await server.download(url)
                        #expect(download.status == 200 && download.body == Data(text.utf8), "a fresh share always downloads")
                        #expect(try await server.request("DELETE", "/v1/agents/\(agent)/shares/\(shareToken(url))").status == 200)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(!FileManager.default.fileExists(atPath: server.blobPath(SHA256Hasher.hex(text))), "gone with the last share")
    }
}
