import AgentSandbox
import NIOCore

/// The first handler of every connection, on raw bytes: it owns the connection's clock and its end.
///
/// - idle (no request under way): the first byte must come within `idleTimeoutSeconds`, else close;
/// - reading a head: it must be complete within `headerTimeoutSeconds` (else 408) and its request
///   line no longer than `maxRequestLineBytes` (else 414);
/// - lingering, after an early answer: the rest of the request is read and dropped — at most
///   `lingerBytes`, for at most `lingerSeconds` — so the client reads the answer, not a reset;
/// - pass-through once a WebSocket upgrade is asked for (the session has its own lifetime).
///
/// `RequestGuard`, further down the pipeline, reports where each request stands. Inbound only: the
/// responses pass by without a hop through it (its own answers are written from its place).
final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum Phase {
        case idle
        case readingHead(lineBytes: Int, lineDone: Bool)
        case inRequest
        case lingering(discarded: Int)
        case passThrough
        case closed
    }

    private let limits: ListenerLimits
    private var phase = Phase.idle
    /// When the current phase's clock runs out (`expired()`); `distantFuture` when no clock runs.
    private var deadline = NIODeadline.distantFuture
    /// The one scheduled wake-up and when it fires. Moving `deadline` later does not touch it (it
    /// re-schedules itself for the new deadline when it fires), so a keep-alive request costs no
    /// timer operation — only an earlier deadline re-schedules.
    private var timer: (task: Scheduled<Void>, at: NIODeadline)?
    private var context: ChannelHandlerContext?
    /// When a lingering close ends at the latest.
    private var lingerDeadline = NIODeadline.distantFuture
    /// A lingering close also ends after this long without a byte from the client (nginx waits 5 s).
    private static let lingerQuietSeconds = 2.0

    init(limits: ListenerLimits) {
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        arm(limits.idleTimeoutSeconds)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopClock()
        timer?.task.cancel()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopClock()
        timer?.task.cancel()
        phase = .closed
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .lingering = phase, let event = event as? ChannelEvent, event == .inputClosed {
            close()  // the client sent everything and closed its side: the lingering is over
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch phase {
        case .passThrough, .inRequest:
            context.fireChannelRead(data)
        case .closed:
            break
        case .lingering(let discarded):
            let total = discarded + unwrapInboundIn(data).readableBytes
            phase = .lingering(discarded: total)
            if total > limits.lingerBytes { close() } else { armLingerTimer() }
        case .idle:
            phase = .readingHead(lineBytes: 0, lineDone: false)
            arm(limits.headerTimeoutSeconds)
            readHead(context: context, data: data)
        case .readingHead:
            readHead(context: context, data: data)
        }
    }

    /// Measures the request line while it arrives; past the limit, answers 414 instead of parsing on.
    private func readHead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .readingHead(let lineBytes, let lineDone) = phase, !lineDone else {
            context.fireChannelRead(data)
            return
        }
        let buffer = unwrapInboundIn(data)
        let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n"))
        let length = lineBytes + (newline.map { $0 - buffer.readerIndex } ?? buffer.readableBytes)
        if length > limits.maxRequestLineBytes {
            respond(ListenerRefusal.requestLineTooLong(limits), thenLinger: true)
            return
        }
        phase = .readingHead(lineBytes: length, lineDone: newline != nil)
        context.fireChannelRead(data)
    }

    // MARK: Reports from RequestGuard

    /// A request head was parsed: no header clock while the request is handled.
    func headReceived() {
        guard case .readingHead = phase else { return }
        stopClock()
        phase = .inRequest
    }

    /// The last request was read and answered: wait for the next one, at most the idle timeout.
    func exchangeFinished() {
        guard case .inRequest = phase else { return }
        phase = .idle
        arm(limits.idleTimeoutSeconds)
    }

    /// The answer went out before the request was read: once `answered` is written, shut the output
    /// (the client sees the answer and then EOF), drop the rest of the input, then close.
    func linger(after answered: EventLoopFuture<Void>) {
        switch phase {
        case .lingering, .closed, .passThrough: return
        default: break
        }
        phase = .lingering(discarded: 0)
        lingerDeadline = .now() + .milliseconds(Int64(limits.lingerSeconds * 1000))
        armLingerTimer()
        answered.assumeIsolated().whenComplete { _ in
            guard case .lingering = self.phase else { return }
            self.context?.close(mode: .output, promise: nil)
        }
    }

    private func armLingerTimer() {
        let left = Double((lingerDeadline - .now()).nanoseconds) / 1e9
        arm(max(0, min(Self.lingerQuietSeconds, left)))
    }

    /// A WebSocket upgrade was asked for: the session has its own lifetime.
    func passThrough() {
        stopClock()
        phase = .passThrough
    }

    // MARK: Ends

    /// Writes a complete raw HTTP response (the HTTP codec is bypassed), then lingers or closes.
    func respond(_ response: ByteBuffer, thenLinger: Bool) {
        guard let context else { return }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(response), promise: written)
        if thenLinger {
            linger(after: written.futureResult)
        } else {
            stopClock()
            phase = .closed
            written.futureResult.assumeIsolated().whenComplete { _ in self.close() }
        }
    }

    /// Closes the connection.
    func close() {
        guard let context else { return }
        stopClock()
        phase = .closed
        context.close(promise: nil)
    }

    /// Runs the clock: `expired()` after `seconds`, unless re-armed or stopped before.
    private func arm(_ seconds: Double) {
        deadline = .now() + .milliseconds(Int64(seconds * 1000))
        if let timer, timer.at <= deadline { return }  // it fires first and then waits for the rest
        schedule()
    }

    private func stopClock() {
        deadline = .distantFuture
    }

    private func schedule() {
        timer?.task.cancel()
        timer = nil
        guard let context, deadline != .distantFuture else { return }
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.timer = nil
            if self.deadline > .now() {
                self.schedule()  // the deadline moved later (or the clock stopped) since this was scheduled
            } else {
                self.deadline = .distantFuture
                self.expired()
            }
        }
        timer = (task, deadline)
    }

    private func expired() {
        switch phase {
        case .idle, .lingering:
            close()
        case .readingHead:
            respond(ListenerRefusal.headerTimeout(limits), thenLinger: false)
        case .inRequest, .passThrough, .closed:
            break
        }
    }
}
