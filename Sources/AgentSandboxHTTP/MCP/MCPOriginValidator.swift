import Foundation
import MCP

/// DNS-rebinding protection for the MCP endpoint: a request that carries an `Origin` (a browser's)
/// must come from a loopback origin or from the server's own public URL; clients that send none
/// (SDKs, desktop apps, curl) pass. Unlike the SDK's `OriginValidator.localhost()`, the `Host` header
/// is not pinned to loopback: the server may be reached by name, and the API key guards it anyway.
struct MCPOriginValidator: HTTPRequestValidator {
    /// Allowed origins beside loopback ones, lower-cased (`scheme://host[:port]`).
    let allowed: Set<String>

    init(publicURL: String) {
        var origins: Set<String> = []
        if let url = URL(string: publicURL), let scheme = url.scheme, let host = url.host {
            origins.insert("\(scheme)://\(host)\(url.port.map { ":\($0)" } ?? "")".lowercased())
        }
        allowed = origins
    }

    func validate(_ request: MCP.HTTPRequest, context: HTTPValidationContext) -> MCP.HTTPResponse? {
        guard let origin = request.header(HTTPHeaderName.origin)?.lowercased() else { return nil }
        if allowed.contains(origin) || Self.isLoopback(origin) { return nil }
        return .error(statusCode: 403, .invalidRequest("Forbidden: Origin \(origin.prefix(100)) is not allowed; browsers may reach this endpoint only from a loopback origin or the server's public URL."),
                      sessionID: context.sessionID)
    }

    static func isLoopback(_ origin: String) -> Bool {
        guard let url = URL(string: origin), url.scheme == "http" || url.scheme == "https", let host = url.host else { return false }
        return host == "localhost" || host == "127.0.0.1" || host == "[::1]" || host == "::1"
    }

    /// The checks every session's transport runs: origin, `Accept` (JSON and SSE), `Content-Type`,
    /// `MCP-Protocol-Version`, and the session id.
    static func pipeline(publicURL: String) -> StandardValidationPipeline {
        StandardValidationPipeline(validators: [
            MCPOriginValidator(publicURL: publicURL),
            AcceptHeaderValidator(mode: .sseRequired),
            ContentTypeValidator(),
            ProtocolVersionValidator(),
            SessionValidator(),
        ])
    }
}
