import AgentSandbox
import AgentSandboxHTTP
import Foundation
import Logging
import Testing
import Tools

/// The OpenAPI document is the contract: a route the server has and the document lacks (or the
/// reverse) fails this test.
@Suite(.enabled(if: isRoot, "prepares a real server in-process"))
struct RouteContractTests {
    @Test func everyRouteIsInTheOpenAPIDocumentAndViceVersa() async throws {
        let repository = TestServer.repositoryRoot
        var configuration = ServerConfiguration(
            dataRoot: TestServer.makeDataRoot(), schemaDirectory: repository.appendingPathComponent("schemas"),
            execHelper: TestServer.buildDirectory.appendingPathComponent("agent-sandbox-exec"))
        configuration.adminKey = "route-test"
        let (services, _) = try await SandboxServices.prepare(configuration: configuration, tools: StandardTools.registry(), logger: Logger(label: "route-test"))
        func normalise(_ method: String, _ path: String) -> String {
            let parts = path.split(separator: "/").map { $0.hasPrefix(":") || $0.hasPrefix("{") ? "{}" : String($0) }
            return method.uppercased() + " /" + parts.joined(separator: "/")
        }
        let servedNormalised = Set(SandboxServer.buildRouter(services: services).routes.map { normalise($0.method.rawValue, $0.path.description) })
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: repository.appendingPathComponent("schemas/openapi.json"))) as? [String: Any]
        let paths = try #require(document?["paths"] as? [String: [String: Any]])
        let published = Set(paths.flatMap { path, operations in operations.keys.map { normalise($0, path) } })
        #expect(servedNormalised.subtracting(published).isEmpty, "routes missing from schemas/openapi.json: \(servedNormalised.subtracting(published).sorted())")
        #expect(published.subtracting(servedNormalised).isEmpty, "documented routes the server lacks: \(published.subtracting(servedNormalised).sorted())")
    }
}
