import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Which methods a route path accepts, so a known path asked with another method is a 405 with
/// `Allow` rather than a 404. Paths are matched by Hummingbird's own router: a second router holds one
/// route per distinct path, under a method no client sends, whose answer lists the path's methods.
///
/// The table is filled once every route is on the main router (the error middleware that reads it
/// is added before the routes).
final class AllowedMethods<Context: RequestContext>: Sendable {
    private let responder = Mutex<RouterResponder<Context>?>(nil)
    private static var probe: HTTPRequest.Method { HTTPRequest.Method("X-AGENT-SANDBOX-ALLOW")! }

    /// Learns the paths and methods of `routes` (a complete router's `routes`).
    func fill(from routes: [Router<Context>.RouteDescription]) {
        var methodsByPath: [String: Set<String>] = [:]
        for route in routes { methodsByPath[route.path.description, default: []].insert(route.method.rawValue) }
        let router = Router(context: Context.self)
        for (path, methods) in methodsByPath {
            let allow = (methods.contains("GET") ? methods.union(["HEAD"]) : methods).sorted().joined(separator: ", ")
            router.on(RouterPath(path), method: Self.probe) { _, _ in Response(status: .noContent, headers: [.allow: allow]) }
        }
        let built = router.buildResponder()
        responder.withLock { $0 = built }
    }

    /// The `Allow` value for the request's path when the path is known but not for this method; nil
    /// when no route has that path (or the method is allowed: the 404 came from the handler).
    func allow(for request: Request, context: Context) async -> String? {
        guard let responder = responder.withLock({ $0 }) else { return nil }
        var head = request.head
        head.method = Self.probe
        let probe = Request(head: head, body: .init(buffer: ByteBuffer()))
        guard let response = try? await responder.respond(to: probe, context: context), response.status == .noContent,
            let allow = response.headers[.allow],
            !allow.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == request.method.rawValue })
        else { return nil }
        return allow
    }
}
