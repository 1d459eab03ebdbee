import NIOCore
import Synchronization

/// Idle keep-alive HTTP/1.1 connections to upstreams, kept for the next request to the same upstream
/// (`ReverseProxy.forward(_:to:pool:)`): a request through the gateway then costs no TCP handshake, no
/// channel set-up and no TIME_WAIT socket per call.
///
/// A connection comes back only when its exchange ended cleanly — the request fully sent, the response
/// read to its end, not upgraded, and neither side asked to close (`ReverseProxy` decides); anything else
/// is closed. How many wait and for how long: `IdleConnections` (the fast path's `FastPathPool` keeps
/// the same policy per event loop). An idle connection the upstream closes leaves the pool at once.
/// `drop` forgets an upstream (its node stopped answering, or moved to another address); `shutdown`
/// closes all.
public final class UpstreamPool: Sendable {
    private let state = Mutex(IdleConnections<any Channel>())

    public init() {}

    /// An open idle connection to `key`, most recently parked first; nil when none is left.
    func take(_ key: String) -> (any Channel)? {
        let (found, stale) = state.withLock { $0.take(key, isOpen: { $0.isActive }) }
        for channel in stale { channel.close(promise: nil) }
        return found
    }

    /// Registers a connection opened for `key` (it joins the pool when it is parked).
    func opened(_ channel: any Channel, key: String) {
        // An idle connection the upstream closes (its idle timeout, a restart) leaves the pool.
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.state.withLock { $0.forget(under: key, where: { $0 === channel }) }
        }
    }

    /// Parks `channel` for the next request to `key`, or closes it when the pool is full or shut down.
    func park(_ channel: any Channel, key: String) {
        let kept = channel.isActive && state.withLock { $0.park(channel, key: key) }
        if !kept { channel.close(promise: nil) }
    }

    /// Closes and forgets the idle connections to `key` (its upstream went away or changed address).
    public func drop(_ key: String) {
        for channel in state.withLock({ $0.drop(key) }) { channel.close(promise: nil) }
    }

    /// Closes every idle connection; connections in use are closed when their exchange ends.
    public func shutdown() {
        for channel in state.withLock({ $0.closeAll() }) { channel.close(promise: nil) }
    }
}
