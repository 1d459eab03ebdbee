import AgentSandbox
import AgentSandboxHTTP
import Foundation
import Logging
import Synchronization
import Testing
import Tools

/// The OpenAPI document the server serves is the contract: a route the server has and the served
/// document lacks (or the reverse) fails this test, and so does a tool without its own operations.
@Suite(.enabled(if: isRoot, "prepares a real server in-process and starts one"))
struct RouteContractTests {
    /// A route as `METHOD` plus its segments; `nil` is a parameter (`:name` in the router, `{name}` in
    /// the document).
    struct Route: Hashable, CustomStringConvertible {
        let method: String
        let segments: [String?]
        init(_ method: String, _ path: String) {
            self.method = method.uppercased()
            segments = path.split(separator: "/").map { $0.hasPrefix(":") || $0.hasPrefix("{") || $0 == "**" ? nil : String($0) }
        }
        /// A documented operation is served by a router route when every literal segment of the route
        /// is the same in the operation (a router parameter also serves a literal: `sandbox/:tool` serves
        /// `sandbox/bash`).
        func serves(_ documented: Route) -> Bool {
            method == documented.method && segments.count == documented.segments.count
                && zip(segments, documented.segments).allSatisfy { route, doc in route == nil || route == doc }
        }
        var description: String { method + " /" + segments.map { $0 ?? "{}" }.joined(separator: "/") }
    }

    private static let preparations = Mutex(0)

    static func routerRoutes() async throws -> (routes: [Route], tools: [String]) {
        let repository = TestServer.repositoryRoot
        var configuration = ServerConfiguration(
            dataRoot: TestServer.makeDataRoot(), schemaDirectory: repository.appendingPathComponent("schemas"),
            execHelper: TestServer.buildDirectory.appendingPathComponent("agent-sandbox-exec"))
        // A uid range of its own: the range lock refuses a second server on another's range.
        configuration.uidBase = UInt32(470_000 + Int(getpid() % 100) * 200 + Self.preparations.withLock { count in
            defer { count += 1 }
            return count % 4 * 50
        })
        configuration.uidCount = 50
        configuration.port = 0
        configuration.adminKey = "route-test"
        // Nothing spawned in this test process: the disk-image probe and network detection run host tools
        // through the server's child reaper, which would then reap every child of this process (the CLI
        // runs of other suites would read status 0, and waits on servers would hang). The routes are the same.
        configuration.allowSharedUID = true
        let (services, _) = try await SandboxServices.prepare(configuration: configuration, tools: StandardTools.registry(), logger: Logger(label: "route-test"))
        let routes = try SandboxServer.buildRouter(services: services).routes.map { Route($0.method.rawValue, $0.path.description) }
        return (routes, services.schemas.tools.keys.sorted())
    }

    static func servedDocument() async throws -> [String: Any] {
        let server = try await TestServer.shared.get()
        let reply = try await server.request("GET", "/openapi.json", headers: [:])
        #expect(reply.status == 200)
        #expect(reply.headers["content-type"]?.hasPrefix("application/json") == true)
        return try #require(try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])
    }

    @Test func everyRouteIsInTheServedDocumentAndViceVersa() async throws {
        let (routes, _) = try await Self.routerRoutes()
        let document = try await Self.servedDocument()
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let methods: Set = ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"]
        let documented = paths.flatMap { path, item in item.keys.filter { methods.contains($0.uppercased()) }.map { Route($0, path) } }
        let undocumented = routes.filter { route in !documented.contains { route.serves($0) } }
        let unserved = documented.filter { operation in !routes.contains { $0.serves(operation) } }
        #expect(undocumented.isEmpty, "routes missing from GET /openapi.json: \(undocumented.map(\.description).sorted())")
        #expect(unserved.isEmpty, "documented operations the server lacks: \(unserved.map(\.description).sorted())")
    }

    @Test func everyToolIsItsOwnOperationWithItsOwnRequestSchema() async throws {
        let (_, tools) = try await Self.routerRoutes()
        let document = try await Self.servedDocument()
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        #expect(tools.count >= 8)
        for tool in tools {
            for family in ["sandbox", "workspace"] {
                let post = paths["/v1/agents/{agent_id}/\(family)/\(tool)"]?["post"] as? [String: Any]
                let body = ((post?["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any]
                #expect((body?["schema"] as? [String: Any])?["$ref"] as? String == "#/components/schemas/tool_\(tool)", "\(family)/\(tool)")
            }
            let published = try JSONSerialization.jsonObject(with: Data(contentsOf: TestServer.repositoryRoot.appendingPathComponent("schemas/tools/\(tool).json"))) as? [String: Any]
            let embedded = schemas["tool_\(tool)"] as? [String: Any]
            #expect(embedded?["required"] as? [String] == published?["required"] as? [String])
            let same = NSDictionary(dictionary: embedded?["properties"] as? [String: Any] ?? [:]).isEqual(to: published?["properties"] as? [String: Any] ?? ["": 0])
            #expect(same, "tool_\(tool) is schemas/tools/\(tool).json")
        }
    }

    @Test func everyReferenceInTheServedDocumentResolves() async throws {
        let document = try await Self.servedDocument()
        var references: [String] = []
        func visit(_ node: Any) {
            if let object = node as? [String: Any] {
                if let target = object["$ref"] as? String { references.append(target) }
                object.values.forEach(visit)
            } else if let array = node as? [Any] {
                array.forEach(visit)
            }
        }
        visit(document)
        #expect(references.count > 50)
        for target in Set(references) {
            #expect(target.hasPrefix("#/"), "\(target) is not local")
            var node: Any? = document
            for key in target.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(key)] }
            #expect(node != nil, "\(target) resolves to nothing")
        }
    }
}
