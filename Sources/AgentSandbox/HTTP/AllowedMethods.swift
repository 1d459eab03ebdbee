import HTTPTypes
import Hummingbird
import NIOCore

/// Which methods a route path accepts, so a known path asked with another method is a 405 with
/// `Allow` rather than a 404. Paths are matched by Hummingbird's own router: a second router holds one
/// route per distinct path, under a method no client sends, whose answer lists the path's methods.
struct AllowedMethods: Sendable {
    private let responder: RouterResponder<BasicRequestContext>
    private static let probe = HTTPRequest.Method("X-AGENT-SANDBOX-ALLOW")!

    init(routes: [Router<BasicRequestContext>.RouteDescription]) {
        var methodsByPath: [String: Set<String>] = [:]
        for route in routes { methodsByPath[route.path.description, default: []].insert(route.method.rawValue) }
        let router = Router(context: BasicRequestContext.self)
        for (path, methods) in methodsByPath {
            let allow = (methods.contains("GET") ? methods.union(["HEAD"]) : methods).sorted().joined(separator: ", ")
            router.on(RouterPath(path), method: Self.probe) { _, _ in Response(status: .noContent, headers: [.allow: allow]) }
        }
        responder = router.buildResponder()
    }

    /// The `Allow` value for the request's path; nil when no route has that path.
    func allow(for request: Request, context: BasicRequestContext) async -> String? {
        var head = request.head
        head.method = Self.probe
        let probe = Request(head: head, body: .init(buffer: ByteBuffer()))
        guard let response = try? await responder.respond(to: probe, context: context), response.status == .noContent else { return nil }
        return response.headers[.allow]
    }
}
