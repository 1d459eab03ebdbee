import Hummingbird

/// The router's responder, called with its concrete type from this module.
///
/// `Application` calls its responder from Hummingbird's own generic code, where `RouterResponder` and
/// its trie run unspecialised: every request looked up type metadata (tuples, `EndpointResponders`) at
/// run time while matching its path. Both are `@inlinable`, so calling them from here, where the
/// context type is known, lets the compiler specialise the route match for `BasicRequestContext`.
///
/// `POST /v1/agents/{agent_id}/sandbox/{tool}` — every envelope tool call — skips the trie: the path
/// is recognised here and the route's own responder (the same middleware and handler the router holds
/// for it, which reads the agent and tool off the path) answers. Matching it in the trie splits the
/// path character by character, walks the route nodes and builds the parameters in generic code:
/// without this, `file_read` answered 7 % fewer calls/s (scripts/bench-files' routes, same run,
/// alternated: 10115 vs 10836/s).
struct ConcreteRouterResponder: HTTPResponder {
    let router: RouterResponder<BasicRequestContext>
    /// The envelope tool-call route's responder, its middleware included (`ToolRoutes.envelopeCall`).
    let envelopeCalls: any HTTPResponder<BasicRequestContext>

    /// Every request gets its id here (`RequestIDMiddleware.identified`), around the router and the
    /// envelope route alike: the outermost layer, without a middleware layer of its own.
    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        try await RequestIDMiddleware<BasicRequestContext>.identified(request) { try await route(request, context: context) }
    }

    private func route(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard request.method == .post, ToolRoutes.envelopeCallTarget(request.uri.path) != nil else {
            return try await router.respond(to: request, context: context)
        }
        // As `RouterResponder` does for a matched route (the handler needs no parameters).
        context.coreContext.endpointPath.value = ToolRoutes.envelopeCallPath
        do {
            return try await envelopeCalls.respond(to: request, context: context)
        } catch let error as any HTTPResponseError {
            return try error.response(from: request, context: context)
        }
    }
}
