import Foundation
import Testing

/// Special files, magic links and limits aimed at the file tools and the process limits.
@Suite(.enabled(if: isRoot, "needs root"))
struct AdversarialSpecialFileTests {
    @Test func fileReadOfAFifoAnswersAtOnce() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "mkfifo pipe")
        let started = Date()
        let reply = try await server.read(agent, "pipe")
        #expect(Date().timeIntervalSince(started) < 5, "a FIFO with no writer must not hang the call")
        #expect(reply.string("error_code") == "NOT_A_REGULAR_FILE", "\(reply.text)")
        #expect(try await server.bash(agent, "echo alive").string("stdout") == "alive\n")
    }

    @Test func symlinksToDevicesAndMagicLinksAreRefused() async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        _ = try await server.bash(agent, "ln -s /dev/zero zero; ln -s /proc/self/root/etc/shadow magic; ln -s /proc/1/environ env1")
        for path in ["zero", "magic", "env1"] {
            let reply = try await server.read(agent, path)
            #expect(reply.string("error_code") == "PATH_OUTSIDE_WORKSPACE", "\(path): \(reply.text.prefix(200))")
            #expect(reply.string("content") == nil)
        }
        let write = try await server.write(agent, "magic", "overwrite")
        #expect(write.string("error_code") == "PATH_OUTSIDE_WORKSPACE")
    }

    @Test func rlimitsAreInForce() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.bash(newAgent(), "ulimit -c; ulimit -n; ulimit -u")
        #expect(reply.string("stdout") == "0\n4096\n256\n", "\(reply.text)")
    }

    @Test func mountTableShowsNoOtherWorkspace() async throws {
        let server = try await TestServer.shared.get()
        let (a, b) = (newAgent(), newAgent())
        _ = try await server.bash(b, "true")
        let reply = try await server.bash(a, "cat /proc/self/mountinfo")
        let mounts = try #require(reply.string("stdout"))
        #expect(mounts.contains(a))
        #expect(!mounts.contains(b))
        #expect(!mounts.contains(".agentsandbox"))
    }
}
