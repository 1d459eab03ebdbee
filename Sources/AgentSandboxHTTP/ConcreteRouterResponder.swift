import Hummingbird

/// The router's responder, called with its concrete type from this module.
///
/// `Application` calls its responder from Hummingbird's own generic code, where `RouterResponder` and
/// its trie run unspecialised: every request looked up type metadata (tuples, `EndpointResponders`) at
/// run time while matching its path. Both are `@inlinable`, so calling them from here, where the
/// context type is known, lets the compiler specialise the route match for `BasicRequestContext`.
struct ConcreteRouterResponder: HTTPResponder {
    let router: RouterResponder<BasicRequestContext>

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        try await router.respond(to: request, context: context)
    }
}
