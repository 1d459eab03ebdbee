import Foundation

/// One node of a cluster as the shared store records it (`nodes` table) plus how many agents it owns.
///
/// A node is *available* while its state is `up` and its last heartbeat is younger than the liveness
/// window; a node that stopped heartbeating (crashed, cut off) is unavailable to every gateway at once,
/// with no vote: the rule is the heartbeat's age alone.
public struct ClusterNode: Sendable, Equatable {
    /// `up` takes new agents; `draining` keeps serving its agents but takes no new ones (`node drain`).
    public enum State: String, Sendable {
        case up
        case draining
    }

    public var id: String
    /// Where gateways reach the node (`serve --advertise-url`), e.g. `http://10.0.0.5:8080`.
    public var advertiseURL: String
    public var maxAgents: Int
    public var freeDiskBytes: Int64
    /// The recorded state; unknown words read as `up`.
    public var state: State
    public var startedAt: Date
    public var heartbeatAt: Date
    /// Live (not deleted) agents the node owns.
    public var agents: Int

    public init(id: String, advertiseURL: String, maxAgents: Int, freeDiskBytes: Int64 = 0, state: State = .up,
                startedAt: Date = Date(), heartbeatAt: Date = Date(), agents: Int = 0) {
        self.id = id
        self.advertiseURL = advertiseURL
        self.maxAgents = maxAgents
        self.freeDiskBytes = freeDiskBytes
        self.state = state
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.agents = agents
    }

    /// Seconds since the last heartbeat (never negative: clocks of different machines disagree a little).
    public func heartbeatAge(now: Date = Date()) -> Double {
        max(0, now.timeIntervalSince(heartbeatAt))
    }

    /// The liveness rule: a heartbeat older than `window` seconds makes the node unavailable.
    public func isAlive(now: Date = Date(), window: Double) -> Bool {
        heartbeatAge(now: now) <= window
    }

    /// Whether a new agent may be placed here: alive, `up`, below `maxAgents`, and at least
    /// `minimumFreeDisk` bytes free.
    public func hasRoom(now: Date = Date(), window: Double, minimumFreeDisk: Int64 = 0) -> Bool {
        isAlive(now: now, window: window) && state == .up && agents < maxAgents && freeDiskBytes >= minimumFreeDisk
    }

    /// Occupied share of the node's agent capacity, 0...1 (1 when `maxAgents` is 0).
    public var load: Double {
        maxAgents > 0 ? min(1, Double(agents) / Double(maxAgents)) : 1
    }

    /// The word `GET /v1/nodes` shows: `up`, `draining`, or `unavailable` when the heartbeat expired.
    public func displayState(now: Date = Date(), window: Double) -> String {
        isAlive(now: now, window: window) ? state.rawValue : "unavailable"
    }
}
