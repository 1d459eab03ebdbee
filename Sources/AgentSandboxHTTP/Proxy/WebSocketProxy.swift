import AgentSandbox
import HTTPTypes
import HummingbirdWebSocket
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Relays a WebSocket through the proxy: the handshake is made upstream first (NIO's typed client
/// upgrader, with the client's path, end-to-end headers and `Sec-WebSocket-Protocol`), and only when the
/// upstream answers 101 is the client's upgrade accepted (with the subprotocol the upstream chose).
/// Then frames are relayed one by one both ways — text, binary and continuation frames as they are
/// (fragmented messages stay fragmented), re-masked upstream as a client must; the upstream's pings are
/// answered here (the client's are answered by Hummingbird), and a close from either side closes both
/// (the upstream's close code and reason reach the client).
///
/// When the upstream cannot be reached or refuses the upgrade, the request is not upgraded: it falls
/// through to the HTTP route, which answers with the upstream's own response or a 502 envelope.
public enum WebSocketProxy {
    /// The upstream side after a successful handshake.
    typealias Upstream = NIOAsyncChannel<WebSocketFrame, WebSocketFrame>

    private enum Handshake: Sendable {
        case upgraded(Upstream, HTTPResponseHead)
        case refused
    }

    /// The largest frame relayed either way.
    public static let maxFrameSize = 1 << 20

    /// Makes the upstream handshake for the client's upgrade `head`; `.upgrade` with a relaying handler
    /// when it succeeded, else `.dontUpgrade`.
    public static func shouldUpgrade<Context: WebSocketContext>(_ head: HTTPRequest, to target: ProxyTarget) async -> ShouldUpgradeResult<WebSocketDataHandler<Context>> {
        guard let made = try? await handshake(head, target: target) else { return .dontUpgrade }
        let (upstream, response) = made
        var fields = HTTPFields()
        if let name = HTTPField.Name("Sec-WebSocket-Protocol"), let chosen = response.headers.first(name: "sec-websocket-protocol") {
            fields[name] = chosen
        }
        return .upgrade(fields) { inbound, outbound, _ in
            try await relay(client: (inbound, outbound), upstream: upstream)
        }
    }

    private static func handshake(_ head: HTTPRequest, target: ProxyTarget) async throws -> (Upstream, HTTPResponseHead)? {
        var request = ProxyHeaders.upstreamHead(head, target: target)
        for name in ["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions"] { request.headers.remove(name: name) }
        request.method = .GET
        let channel = try await target.connector.connect { $0.eventLoop.makeSucceededVoidFuture() }
        let upgrader = NIOTypedWebSocketClientUpgrader<Handshake>(maxFrameSize: maxFrameSize) { channel, response in
            channel.eventLoop.makeCompletedFuture {
                .upgraded(try Upstream(wrappingChannelSynchronously: channel), response)
            }
        }
        var configuration = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: .init(
            upgradeRequestHead: request, upgraders: [upgrader],
            notUpgradingCompletionHandler: { $0.eventLoop.makeSucceededFuture(.refused) }))
        // Frames the upstream sends right after its 101 can arrive in the same read as it: the HTTP
        // decoder hands them on to the WebSocket decoder instead of dropping them (NIO's default), which
        // lost a session's buffered output when it was replayed at once.
        configuration.leftOverBytesStrategy = .forwardBytes
        do {
            let result = try await channel.pipeline.configureUpgradableHTTPClientPipeline(configuration: configuration).get().get()
            guard case .upgraded(let upstream, let response) = result else {
                channel.close(promise: nil)
                return nil
            }
            return (upstream, response)
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }

    private static func relay(client: (WebSocketInboundStream, WebSocketOutboundWriter), upstream: Upstream) async throws {
        try await upstream.executeThenClose { upInbound, upOutbound in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await frame in client.0 {
                        try await upOutbound.write(WebSocketFrame(fin: frame.fin, opcode: frame.opcode.frameOpcode, maskKey: .random(), data: frame.data))
                    }
                    var normal = ByteBuffer()
                    normal.write(webSocketErrorCode: .normalClosure)
                    try? await upOutbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: normal))
                }
                group.addTask {
                    for try await frame in upInbound {
                        switch frame.opcode {
                        case .text, .binary, .continuation:
                            try await client.1.write(.custom(WebSocketFrame(fin: frame.fin, opcode: frame.opcode, data: frame.unmaskedData)))
                        case .ping:
                            try await upOutbound.write(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData))
                        case .connectionClose:
                            var data = frame.unmaskedData
                            let code = data.readWebSocketErrorCode() ?? .normalClosure
                            try await client.1.close(code, reason: data.readString(length: data.readableBytes))
                            return
                        default:
                            continue
                        }
                    }
                    try await client.1.close(.goingAway, reason: "upstream closed")
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }
}

extension WebSocketDataFrame.Opcode {
    /// The wire opcode of a data frame.
    var frameOpcode: WebSocketOpcode {
        switch self {
        case .text: .text
        case .binary: .binary
        case .continuation: .continuation
        }
    }
}
