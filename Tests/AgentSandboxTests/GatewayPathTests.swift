import AgentSandbox
import Hummingbird
import Testing
@testable import AgentSandboxHTTP

/// How a gateway reads a request's destination from its path.
@Suite struct GatewayPathTests {
    let id = "3f2b6c1e-8d4a-4b7e-9c21-5a6d7e8f9a0b"

    @Test func agentRoutesOfEveryShapeNameTheirAgent() throws {
        for (path, rewritten) in [
            ("/v1/agents/\(id)", "/v1/agents/\(id)"),
            ("/v1/agents/n2.\(id)/sandbox/bash", "/v1/agents/\(id)/sandbox/bash"),
            ("/v1/agents/\(id.uppercased())/archive?format=tar", "/v1/agents/\(id)/archive?format=tar"),
            ("/workspace/n1.\(id)/tools/bash", "/workspace/\(id)/tools/bash"),
            ("/sandboxes/\(id)/exec", "/sandboxes/\(id)/exec"),
            ("/api/v1/sandboxes/\(id)/exec", "/api/v1/sandboxes/\(id)/exec"),
        ] {
            guard case .agent(let reference, let target) = GatewayPath.destination(of: path) else {
                Issue.record("\(path) names no agent")
                continue
            }
            #expect(reference.agent.rawValue == id)
            #expect(target == rewritten)
        }
    }

    @Test func theNodePrefixIsKeptAsAHint() {
        guard case .agent(let reference, _) = GatewayPath.destination(of: "/v1/agents/node-2.\(id)/exec") else {
            Issue.record("no agent")
            return
        }
        #expect(reference.nodeHint == "node-2")
    }

    @Test func sharesPreviewsAndAgentlessRoutesHaveTheirOwnDestinations() {
        #expect(GatewayPath.destination(of: "/s/tok123/a.txt") == .share(token: "tok123", path: "/s/tok123/a.txt"))
        #expect(GatewayPath.destination(of: "/p/tok9/index.html?x=1") == .preview(token: "tok9", path: "/p/tok9/index.html?x=1"))
        #expect(GatewayPath.destination(of: "/v1/tools?format=openai") == .anyNode(path: "/v1/tools?format=openai"))
        #expect(GatewayPath.destination(of: "/v1/agents/not-a-uuid/sandbox/bash") == .anyNode(path: "/v1/agents/not-a-uuid/sandbox/bash"))
        #expect(GatewayPath.destination(of: "/v1/agents") == .anyNode(path: "/v1/agents"))
    }

    @Test func theGatewayAnswersMovesDrainsAndPlacementItselfWhateverTheSlashes() {
        typealias Forward = GatewayForwardMiddleware<BasicRequestContext>
        for path in ["/v1/agents/\(id)/move", "/v1/agents/\(id)/move/", "/v1/agents/\(id)/move//", "/v1//agents/\(id)/move", "/v1/nodes/n1/drain", "/v1/agents", "/v1/agents/"] {
            #expect(Forward.isLocal(method: .post, path: path), "\(path)")
        }
        for path in ["/v1/agents/\(id)/sandbox/file_read", "/v1/agents/\(id)/sandbox/move", "/v1/agents/\(id)/exec", "/v1/agents/\(id)/move/x", "/move"] {
            #expect(!Forward.isLocal(method: .post, path: path), "\(path)")
        }
        #expect(!Forward.isLocal(method: .get, path: "/v1/agents/\(id)/move"))
        #expect(Forward.isLocal(method: .get, path: "/v1/nodes"))
    }
}
