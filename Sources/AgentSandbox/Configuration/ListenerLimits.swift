import SandboxKernel
/// What the HTTP listener tolerates from a client before it answers with an error and closes: time to
/// send a request head, time a keep-alive connection may sit idle, the size of a head, and how many
/// connections may be open at once (overall and from one peer address).
///
/// The defaults keep a single client — or an agent on the host network — from holding the listener:
/// ```
/// var limits = ListenerLimits()
/// limits.headerTimeoutSeconds = 10   // --header-timeout
/// limits.maxConnectionsPerPeer = 256 // --max-connections-per-peer
/// ```
public struct ListenerLimits: Sendable {
    /// Seconds from a request's first byte until its head is complete; then 408 and close.
    public var headerTimeoutSeconds: Double = 10
    /// Seconds a connection may wait, with no request under way, for the first byte of the next one.
    public var idleTimeoutSeconds: Double = 30
    /// Longest request line (method, target and version), bytes; 414 past it.
    public var maxRequestLineBytes = 8 << 10
    /// Largest single header field (name or value), bytes; 431 past it.
    public var maxHeaderFieldBytes = 16 << 10
    /// Largest request head (request line and every header), bytes; 431 past it.
    public var maxHeaderBytes = 64 << 10
    /// Most header fields in one request; 431 past it.
    public var maxHeaderCount = 100
    /// Open connections in all; nil: derived from the open-file limit (see `DescriptorReserve`).
    public var maxConnections: Int?
    /// Open connections from one peer address; nil: a quarter of `maxConnections`.
    public var maxConnectionsPerPeer: Int?
    /// After an early answer (413, 401, a parse error), bytes of the rest of the request read and
    /// discarded so the client can read the answer instead of a reset (nginx's lingering close).
    public var lingerBytes = 64 << 20
    /// The longest a lingering close lasts, seconds (it ends sooner when the client closes).
    public var lingerSeconds: Double = 30

    public init() {}
}
