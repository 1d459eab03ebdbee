import AgentSandbox
import Hummingbird

extension ExecEventStream {
    /// A foreground command streamed as SSE: it belongs to this request — killed if the client leaves
    /// before it ends — and its call is audited when the stream ends (`ticket`).
    static func foreground(_ session: ExecSession, ticket: CallTicket, encoding: ExecOutputEncoding, request: Request) -> Response {
        response(
            session, from: ExecCursor(), encoding: encoding, request: request,
            onDisconnect: {
                session.terminate()
                ticket.fail(ToolError(.cancelled, "The client left before the command ended; it was killed."))
            },
            onFinish: { ticket.finish(bytes: session.counters.stdout + session.counters.stderr) })
    }
}
