import Foundation
import Logging
import MCP
import Synchronization

/// One MCP session's Streamable HTTP transport (the SDK's `Transport`, driven by its `Server`).
///
/// Like the SDK's `StatefulHTTPServerTransport`, and with its validators (origin, `Accept`,
/// `Content-Type`, protocol version, session id), but built for long sessions of tool calls:
/// - it keeps no copy of past messages (the SDK's event store keeps every reply for replay, so a
///   session's memory grew with every command's output); a dropped stream is not replayed;
/// - a request without a `progressToken` is answered with one `application/json` body (the spec's
///   other reply form: one write instead of a stream), a request with one as an SSE stream carrying its
///   progress notifications and then the reply; other server messages go to the GET stream;
/// - a cancelled request's reply is ended (the SDK sends none);
/// - its state sits behind a mutex and its methods are `nonisolated`: neither the HTTP handler nor
///   the SDK's server hops onto the actor (measured: each hop costs a thread switch per call).
actor MCPSessionTransport: Transport {
    nonisolated let logger = Logger(label: "agent-sandbox.mcp", factory: { _ in SwiftLogNoOpLogHandler() })
    nonisolated let sessionID: String
    private nonisolated let validation: any HTTPRequestValidationPipeline
    private nonisolated let incoming: AsyncThrowingStream<Data, any Error>
    private nonisolated let incomingContinuation: AsyncThrowingStream<Data, any Error>.Continuation
    private typealias Stream = AsyncThrowingStream<Data, any Error>.Continuation

    /// Where a request's reply goes: its SSE stream, or the POST waiting for it (nil: cancelled).
    private enum Reply {
        case stream(Stream)
        case waiter(CheckedContinuation<Data?, Never>)
    }

    private struct State {
        /// Request id → its reply, and progress token → request id.
        var replies: [String: Reply] = [:]
        var progressOwners: [String: String] = [:]
        var standalone: Stream?
        var terminated = false
        var eventCounter = 0

        mutating func event(_ data: Data) -> Data {
            eventCounter += 1
            var event = Data("event: message\nid: \(eventCounter)\ndata: ".utf8)
            event.append(data)
            event.append(contentsOf: [10, 10])
            return event
        }
    }

    private nonisolated let state = Mutex(State())

    init(sessionID: String, validation: any HTTPRequestValidationPipeline) {
        self.sessionID = sessionID
        self.validation = validation
        (incoming, incomingContinuation) = AsyncThrowingStream.makeStream()
    }

    nonisolated func connect() async throws {}
    nonisolated func disconnect() async { terminate() }
    nonisolated func receive() -> AsyncThrowingStream<Data, any Error> { incoming }

    /// Routes a message from the server: a reply ends its request's stream or answers its POST.
    /// (Streams are finished outside the lock: finishing runs their termination handler, which locks.)
    nonisolated func send(_ data: Data) async throws {
        let message = MCPMessage(data)
        let (ended, terminated) = state.withLock { state -> (Reply?, Bool) in
            guard !state.terminated else { return (nil, true) }
            switch message {
            case .response(let id)?:
                let reply = state.replies.removeValue(forKey: id)
                if case .stream(let stream)? = reply { stream.yield(state.event(data)) }
                if !state.progressOwners.isEmpty { state.progressOwners = state.progressOwners.filter { $0.value != id } }
                return (reply, false)
            case .notification(_, let subject?)? where state.progressOwners[subject] != nil:
                if case .stream(let stream)? = state.replies[state.progressOwners[subject]!] { stream.yield(state.event(data)) }
            default:
                if let standalone = state.standalone { standalone.yield(state.event(data)) }
            }
            return (nil, false)
        }
        if terminated { throw MCPError.connectionClosed }
        switch ended {
        case .stream(let stream)?: stream.finish()
        case .waiter(let waiter)?: waiter.resume(returning: data)
        case nil: break
        }
    }

    /// Answers one HTTP request of this session (POST, GET or DELETE).
    nonisolated func handle(_ request: MCP.HTTPRequest, initialize: Bool = false) async -> MCP.HTTPResponse {
        guard !state.withLock({ $0.terminated }) else { return .error(statusCode: 404, .invalidRequest("Not Found: Session has been terminated")) }
        let context = HTTPValidationContext(httpMethod: request.method.uppercased(), sessionID: sessionID, isInitializationRequest: initialize)
        if let refusal = validation.validate(request, context: context) { return refusal }
        switch context.httpMethod {
        case "POST": return await post(request)
        case "GET":
            let (stream, continuation) = AsyncThrowingStream<Data, any Error>.makeStream()
            // A reconnecting client replaces its stream.
            state.withLock { state in
                state.standalone?.finish()
                state.standalone = continuation
            }
            return .stream(stream, headers: streamHeaders)
        case "DELETE":
            terminate()
            return .ok(headers: [HTTPHeaderName.sessionID: sessionID])
        default:
            return .error(statusCode: 405, .invalidRequest("Method Not Allowed"), sessionID: sessionID, extraHeaders: [HTTPHeaderName.allow: "GET, POST, DELETE"])
        }
    }

    private nonisolated func post(_ request: MCP.HTTPRequest) async -> MCP.HTTPResponse {
        guard let body = request.body, let message = MCPMessage(body) else {
            return .error(statusCode: 400, .parseError("The body must be one JSON-RPC message (batches are not supported)."), sessionID: sessionID)
        }
        switch message {
        case .request(let id, _, let token):
            if state.withLock({ $0.replies[id] != nil }) {
                return .error(statusCode: 400, .invalidRequest("Request id already in use in this session."), sessionID: sessionID)
            }
            guard let token else {
                let reply = await withCheckedContinuation { (waiter: CheckedContinuation<Data?, Never>) in
                    state.withLock { $0.replies[id] = .waiter(waiter) }
                    incomingContinuation.yield(body)
                }
                guard let reply else { return .accepted(headers: [HTTPHeaderName.sessionID: sessionID]) }
                return .data(reply, headers: [HTTPHeaderName.sessionID: sessionID, HTTPHeaderName.contentType: "application/json"])
            }
            let (stream, continuation) = AsyncThrowingStream<Data, any Error>.makeStream()
            continuation.onTermination = { [weak self] _ in self?.dropReply(id) }
            state.withLock { state in
                state.replies[id] = .stream(continuation)
                state.progressOwners[token] = id
            }
            incomingContinuation.yield(body)
            return .stream(stream, headers: streamHeaders)
        case .notification(let method, let subject):
            incomingContinuation.yield(body)
            if method == "notifications/cancelled", let subject {
                state.withLock { $0.replies.removeValue(forKey: subject) }.map(Self.end)
            }
            return .accepted(headers: [HTTPHeaderName.sessionID: sessionID])
        case .response:
            incomingContinuation.yield(body)
            return .accepted(headers: [HTTPHeaderName.sessionID: sessionID])
        }
    }

    /// A reply stream whose client left.
    private nonisolated func dropReply(_ id: String) {
        state.withLock { state in
            if case .stream? = state.replies[id] { state.replies[id] = nil }
        }
    }

    /// Ends a reply that will not come (cancelled request, ended session).
    private static func end(_ reply: Reply) {
        switch reply {
        case .stream(let stream): stream.finish()
        case .waiter(let waiter): waiter.resume(returning: nil)
        }
    }

    private nonisolated var streamHeaders: [String: String] {
        [HTTPHeaderName.sessionID: sessionID, HTTPHeaderName.contentType: "text/event-stream",
         HTTPHeaderName.cacheControl: "no-cache, no-transform"]
    }

    private nonisolated func terminate() {
        let ended = state.withLock { state -> [Reply] in
            guard !state.terminated else { return [] }
            state.terminated = true
            state.standalone?.finish()
            state.standalone = nil
            defer { state.replies = [:] }
            return Array(state.replies.values)
        }
        ended.forEach(Self.end)
        incomingContinuation.finish()
    }
}
