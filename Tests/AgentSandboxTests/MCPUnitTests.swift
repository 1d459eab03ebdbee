@testable import AgentSandbox
@testable import AgentSandboxHTTP
import Foundation
import Testing

/// The MCP edge's pure parts: message routing, resource URIs, the text a model reads.
struct MCPUnitTests {
    @Test func responsesAreClassifiedByTheirIdWithoutParsingTheResult() {
        let reply = Data(#"{"id":7,"jsonrpc":"2.0","result":{"content":[{"type":"text","text":"{\"id\":1"}]}}"#.utf8)
        #expect(MCPMessage(reply) == .response(id: "n:7"))
        #expect(MCPMessage(Data(#"{"id":"7","jsonrpc":"2.0","error":{"code":-1,"message":"x"}}"#.utf8)) == .response(id: "s:7"))
    }

    @Test func requestsCarryTheirProgressTokenAndCancellationsTheirRequest() {
        let call = Data(#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"bash","_meta":{"progressToken":"p1"}}}"#.utf8)
        #expect(MCPMessage(call) == .request(id: "n:3", method: "tools/call", progressToken: "s:p1"))
        let cancel = Data(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}"#.utf8)
        #expect(MCPMessage(cancel) == .notification(method: "notifications/cancelled", subject: "n:3"))
        #expect(MCPMessage(Data("[1,2]".utf8)) == nil, "batches are refused")
    }

    @Test func resourceURIsRoundTripAndRefuseOtherSchemes() throws {
        let uri = MCPResources.uri(for: "src/my file.txt")
        #expect(uri == "workspace:///src/my%20file.txt")
        #expect(try MCPResources.path(of: uri) == "src/my file.txt")
        #expect(throws: (any Error).self) { try MCPResources.path(of: "file:///etc/passwd") }
    }

    @Test func aSessionToolsTextStartsWithTheSessionLine() {
        let started = MCPCallPort.envelope([
            "session_id": "s1", "state": "running", "pid": 42, "stdout": "ready\n", "stderr": "", "exit_code": .null,
        ])
        #expect(started.exitCode == nil && started.extras["session_id"] == "s1" && started.extras["stdout"] == nil)
        #expect(ModelText.render(started, tool: "exec_start") == "Session s1: running, pid 42\nready\n")
        let killed = MCPCallPort.envelope(["session_id": "s1", "state": "running", "signal_sent": "SIGKILL"])
        #expect(ModelText.render(killed, tool: "exec_kill") == "Session s1: running, sent SIGKILL")
    }

    @Test func anEnvelopeTravelsAsStructuredContentWithEveryCoreKey() {
        var envelope = Envelope(stdout: "x", exitCode: 0)
        envelope.extras["duration_ms"] = 3
        guard case .object(let fields) = envelope.jsonValue else { Issue.record("not an object"); return }
        #expect(Set(Envelope.coreKeys).isSubset(of: fields.keys))
        #expect(fields["status"] == "ok" && fields["path"] == .null && fields["duration_ms"] == 3)
    }
}
