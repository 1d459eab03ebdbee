import AgentSandbox
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// The sandbox server's HTTP listener: Hummingbird's HTTP/1 channel with WebSocket upgrade, behind
/// `GuardedChildChannel` (timeouts, head limits, connection caps, 100-continue, lingering close).
struct SandboxListener: Sendable {
    let limits: ListenerLimits
    let limiter: ConnectionLimiter
    /// Also consulted for WebSocket upgrade heads (see `RequestGuard`).
    var precheck: RequestPrecheck

    init(configuration: AgentSandbox.ServerConfiguration, logger: Logger) {
        let caps = configuration.listener.connectionCaps()
        limits = configuration.listener
        logger.info("listener: at most \(caps.total) connections (\(caps.perPeer) per peer address) of \(caps.openFiles) open files; request heads within \(limits.headerTimeoutSeconds) s, idle connections closed after \(limits.idleTimeoutSeconds) s")
        limiter = ConnectionLimiter(maxConnections: caps.total, maxPerPeer: caps.perPeer, logger: logger)
        precheck = Self.precheck(configuration.limits, previewDomain: configuration.previewDomain)
    }

    /// The server: each connection guarded, then handled by Hummingbird as usual.
    func server(
        maxFrameSize: Int,
        shouldUpgrade: @escaping @Sendable (HTTPRequest, any Channel, Logger) async throws -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>
    ) -> HTTPServerBuilder {
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(idleTimeout: .milliseconds(Int64(limits.idleTimeoutSeconds * 1000)), httpDecoderConfiguration: limits.decoderConfiguration),
            ws: .init(maxFrameSize: maxFrameSize))
        return HTTPServerBuilder { [self] responder in
            GuardedChildChannel(
                inner: HTTP1WebSocketUpgradeChannel(responder: responder, configuration: configuration, shouldUpgrade: shouldUpgrade),
                limits: limits, limiter: limiter, precheck: precheck)
        }
    }

    /// Refuses, from the head alone, a body the route would refuse anyway (413 by Content-Length), and
    /// — when the client waits for `100 Continue` — a `/v1` request without any API key (401), so the
    /// client never sends a body that is not wanted. Preview requests (`PreviewAddress`) are the app's:
    /// their bodies stream to it unlimited (looked for only when there is something to refuse).
    static func precheck(_ limits: ResourceLimits, previewDomain: String? = nil) -> RequestPrecheck {
        { head, expectsContinue in
            guard let refusal = refusal(head, expectsContinue: expectsContinue, limits: limits) else { return nil }
            if PreviewAddress.parse(target: head.uri) != nil || PreviewAddress.parse(host: head.headers.first(name: "host"), target: head.uri, domain: previewDomain) != nil {
                return nil
            }
            return refusal
        }
    }

    private static func refusal(_ head: HTTPRequestHead, expectsContinue: Bool, limits: ResourceLimits) -> ToolError? {
        if let declared = head.headers.first(name: "content-length").flatMap({ Int64($0) }) {
            let isArchiveImport = head.method == .PUT && isArchiveImportPath(PathSegments.path(of: head.uri))
            let limit = isArchiveImport ? limits.archiveBodyBytes : Int64(limits.requestBodyBytes)
            if declared > limit {
                return ToolError(isArchiveImport ? .archiveTooLarge : .payloadTooLarge, "The request body is \(declared) bytes; this route accepts at most \(limit). Send large files in parts (file_write with mode \"a\") or import an archive.")
            }
        }
        if expectsContinue, PathSegments.path(of: head.uri).hasPrefix("/v1"), !head.headers.contains(name: "x-api-key"), !head.headers.contains(name: "authorization") {
            return ToolError(.unauthorized, "Missing API key: send it in the x-api-key header (or Authorization: Bearer <key>).")
        }
        return nil
    }

    /// `/v1/agents/{id}/archive`.
    private static func isArchiveImportPath(_ path: Substring) -> Bool {
        var segments = PathSegments(path)
        return segments.next() == "v1" && segments.next() == "agents" && segments.next() != nil && segments.next() == "archive" && segments.next() == nil
    }
}
