import NIOCore
import NIOHTTPTypesHTTP1

extension FastPathHandler {
    /// What the gateway gives Hummingbird as an additional channel handler: Hummingbird adds those
    /// after its converter from NIO's HTTP/1 parts to `HTTPTypes` parts (`HTTP1ToHTTPServerCodec`), and
    /// the fast path belongs before it. Once added, the installer puts its `FastPathHandler` in front
    /// of the converter and leaves the pipeline, so no request passes through it.
    final class Installer: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = Never
        let handler: FastPathHandler

        init(handler: FastPathHandler) {
            self.handler = handler
        }

        func handlerAdded(context: ChannelHandlerContext) {
            let pipeline = context.pipeline.syncOperations
            do {
                let converter = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
                try pipeline.addHandler(handler, position: .before(converter))
            } catch {
                // No converter (Hummingbird changed its pipeline): without the fast path, every request takes the routes.
            }
            pipeline.removeHandler(context: context, promise: nil)
        }
    }
}
