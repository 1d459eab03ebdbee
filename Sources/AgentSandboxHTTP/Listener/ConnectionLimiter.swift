import Logging
import Synchronization

/// Counts open connections, overall and per peer address, and refuses the ones over either cap.
///
/// A refusal is logged at most once per `logInterval` per cap, with how many were refused since the
/// last line, so a flood cannot flood the log too.
final class ConnectionLimiter: Sendable {
    /// Why a connection was refused.
    enum Refusal: Equatable {
        case total
        case perPeer
    }

    private struct State {
        var total = 0
        var perPeer: [String: Int] = [:]
        var refusedSinceLog = 0
        var lastLog: ContinuousClock.Instant?
    }

    let maxConnections: Int
    let maxPerPeer: Int
    private let logger: Logger
    private let logInterval: Duration
    private let state = Mutex(State())

    init(maxConnections: Int, maxPerPeer: Int, logger: Logger, logInterval: Duration = .seconds(10)) {
        self.maxConnections = max(1, maxConnections)
        self.maxPerPeer = max(1, min(maxPerPeer, maxConnections))
        self.logger = logger
        self.logInterval = logInterval
    }

    /// Takes a slot for a connection from `peer`; nil when admitted (call `release(peer)` when it closes).
    func admit(_ peer: String) -> Refusal? {
        let (refusal, logLine): (Refusal?, String?) = state.withLock { state in
            let fromPeer = state.perPeer[peer, default: 0]
            let refusal: Refusal? = state.total >= maxConnections ? .total : fromPeer >= maxPerPeer ? .perPeer : nil
            guard let refusal else {
                state.total += 1
                state.perPeer[peer] = fromPeer + 1
                return (nil, nil)
            }
            state.refusedSinceLog += 1
            let now = ContinuousClock.now
            if let last = state.lastLog, now - last < logInterval { return (refusal, nil) }
            state.lastLog = now
            let count = state.refusedSinceLog
            state.refusedSinceLog = 0
            let line = switch refusal {
            case .total:
                "connection cap reached: \(state.total) connections open (--max-connections \(maxConnections)); refusing new ones (\(count) refused since the last report; latest from \(peer))"
            case .perPeer:
                "per-peer connection cap reached: \(peer) has \(fromPeer) connections open (--max-connections-per-peer \(maxPerPeer)); refusing its new ones (\(count) refused since the last report)"
            }
            return (refusal, line)
        }
        if let logLine { logger.warning("\(logLine)") }
        return refusal
    }

    /// Frees the slot `admit(peer)` took.
    func release(_ peer: String) {
        state.withLock { state in
            state.total -= 1
            let remaining = state.perPeer[peer, default: 1] - 1
            state.perPeer[peer] = remaining > 0 ? remaining : nil
        }
    }

    /// Connections open now (for tests and metrics).
    var openConnections: Int { state.withLock { $0.total } }
}
