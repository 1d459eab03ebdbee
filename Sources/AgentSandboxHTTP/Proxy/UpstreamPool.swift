import NIOCore
import Synchronization

/// Idle keep-alive HTTP/1.1 connections to upstreams, kept for the next request to the same upstream
/// (`ReverseProxy.forward(_:to:pool:)`): a request through the gateway then costs no TCP handshake, no
/// channel set-up and no TIME_WAIT socket per call.
///
/// A connection comes back only when its exchange ended cleanly — the request fully sent, the response
/// read to its end, not upgraded, and neither side asked to close (`ReverseProxy` decides); anything else
/// is closed. Per upstream at most `maxIdlePerUpstream` wait (more are closed when they come back), each
/// at most `idleTimeout` (below the node's own idle timeout, 30 s by default, so the node does not close
/// one just as it is taken). An idle connection the upstream closes leaves the pool at once. `drop`
/// forgets an upstream (its node stopped answering, or moved to another address); `shutdown` closes all.
public final class UpstreamPool: Sendable {
    /// One parked connection.
    struct Idle: Sendable {
        let channel: any Channel
        let since: ContinuousClock.Instant
    }

    private struct State {
        var idle: [String: [Idle]] = [:]
        var closed = false
    }

    public let maxIdlePerUpstream: Int
    public let idleTimeout: Duration
    private let state = Mutex(State())

    public init(maxIdlePerUpstream: Int = 64, idleTimeout: Duration = .seconds(10)) {
        self.maxIdlePerUpstream = max(0, maxIdlePerUpstream)
        self.idleTimeout = idleTimeout
    }

    /// An open idle connection to `key`, most recently parked first; nil when none is left.
    func take(_ key: String) -> (any Channel)? {
        let now = ContinuousClock.now
        var expired: [any Channel] = []
        let found: (any Channel)? = state.withLock { state in
            while var list = state.idle[key], let last = list.popLast() {
                state.idle[key] = list.isEmpty ? nil : list
                if now - last.since < idleTimeout, last.channel.isActive { return last.channel }
                expired.append(last.channel)
            }
            return nil
        }
        for channel in expired { channel.close(promise: nil) }
        return found
    }

    /// Registers a connection opened for `key` (it joins the pool when it is parked).
    func opened(_ channel: any Channel, key: String) {
        // An idle connection the upstream closes (its idle timeout, a restart) leaves the pool.
        channel.closeFuture.whenComplete { [weak self] _ in self?.forget(channel, key: key) }
    }

    /// Parks `channel` for the next request to `key`, or closes it when the pool is full or shut down.
    func park(_ channel: any Channel, key: String) {
        let kept = state.withLock { state in
            guard !state.closed, channel.isActive else { return false }
            var list = state.idle[key] ?? []
            // A full pool for this upstream closes the connection coming back.
            if list.count >= maxIdlePerUpstream { return false }
            list.append(Idle(channel: channel, since: .now))
            state.idle[key] = list
            return true
        }
        if !kept { channel.close(promise: nil) }
    }

    private func forget(_ channel: any Channel, key: String) {
        state.withLock { state in
            guard let list = state.idle[key] else { return }
            let rest = list.filter { $0.channel !== channel }
            state.idle[key] = rest.isEmpty ? nil : rest
        }
    }

    /// Closes and forgets the idle connections to `key` (its upstream went away or changed address).
    public func drop(_ key: String) {
        let list = state.withLock { $0.idle.removeValue(forKey: key) ?? [] }
        for idle in list { idle.channel.close(promise: nil) }
    }

    /// Closes every idle connection; connections in use are closed when their exchange ends.
    public func shutdown() {
        let all = state.withLock { state in
            state.closed = true
            defer { state.idle = [:] }
            return state.idle.values.flatMap { $0 }
        }
        for idle in all { idle.channel.close(promise: nil) }
    }
}
