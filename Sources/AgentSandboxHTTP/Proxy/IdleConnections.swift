import NIOCore

/// The keep-alive policy of the gateway's two connection pools — `UpstreamPool` (the routes', shared
/// under a lock) and `FastPathPool` (one per event loop, no lock) — written once: per upstream (filed
/// under `host:port`), the most recently parked connection is taken first; at most
/// `maxIdlePerUpstream` wait (more are closed as they come back), each at most `idleTimeout` (below
/// the node's own idle timeout, 30 s by default, so the node does not close one just as it is taken).
///
/// It only keeps the lists: the methods return the connections the caller must close, so that a pool
/// closes them outside its lock.
struct IdleConnections<Connection> {
    static var maxIdlePerUpstream: Int { 64 }
    static var idleTimeout: TimeAmount { .seconds(10) }

    private var idle: [String: [(connection: Connection, since: NIODeadline)]] = [:]
    /// After `closeAll`: nothing is parked any more.
    private(set) var closed = false

    /// The most recently parked connection to `key` that is still open and fresh, and the stale ones
    /// met on the way (to close).
    mutating func take(_ key: String, isOpen: (Connection) -> Bool) -> (found: Connection?, stale: [Connection]) {
        let now = NIODeadline.now()
        var stale: [Connection] = []
        while var list = idle[key], let last = list.popLast() {
            idle[key] = list.isEmpty ? nil : list
            if now - last.since < Self.idleTimeout, isOpen(last.connection) { return (last.connection, stale) }
            stale.append(last.connection)
        }
        return (nil, stale)
    }

    /// Parks `connection` under `key`; false when it must be closed instead (the pool is full for
    /// `key`, or closed).
    mutating func park(_ connection: Connection, key: String) -> Bool {
        guard !closed, idle[key, default: []].count < Self.maxIdlePerUpstream else { return false }
        idle[key, default: []].append((connection, .now()))
        return true
    }

    /// Forgets the parked connections `isClosed` picks under `key` (the upstream closed one).
    mutating func forget(under key: String, where isClosed: (Connection) -> Bool) {
        guard let list = idle[key] else { return }
        let rest = list.filter { !isClosed($0.connection) }
        idle[key] = rest.isEmpty ? nil : rest
    }

    /// Forgets every connection to `key` (its upstream went away or changed address); they are to close.
    mutating func drop(_ key: String) -> [Connection] {
        idle.removeValue(forKey: key)?.map(\.connection) ?? []
    }

    /// Forgets every connection and parks none from now on; they are to close.
    mutating func closeAll() -> [Connection] {
        closed = true
        defer { idle = [:] }
        return idle.values.joined().map(\.connection)
    }
}
