import Foundation
import Testing

/// The API key guards every authenticated route however its path is spelled: the router ignores empty
/// segments, so `//v1/agents` reaches `/v1/agents` and must be authenticated like it.
@Suite(.enabled(if: isRoot, "starts the shared server"))
struct AuthPathTests {
    @Test(arguments: ["/v1/agents", "//v1/agents", "/v1//agents", "//sandboxes/%@/commands/1/wait", "/api//v1/sandboxes/%@/exec", "//workspace/%@/tools/bash"])
    func aRequestWithoutTheKeyIsRefused(path: String) async throws {
        let server = try await TestServer.shared.get()
        let target = path.replacingOccurrences(of: "%@", with: newAgent())
        let status = try await offPool {
            let connection = try LoopbackConnection(port: server.port)
            try connection.send(Array("POST \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".utf8))
            try connection.readResponseHead()
            return connection.status
        }
        #expect(status == 401, "\(target)")
    }
}
