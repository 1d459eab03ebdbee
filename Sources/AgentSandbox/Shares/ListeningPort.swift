import Synchronization

/// The port the HTTP server actually listens on (differs from the configured one with `--port 0`);
/// share URLs are built from it when no `--public-url` is given.
public enum ListeningPort {
    static let current = Atomic<Int>(0)

    public static func record(_ port: Int) { current.store(port, ordering: .relaxed) }

    /// The port recorded by `record`, nil before the server listens.
    public static var bound: Int? {
        let port = current.load(ordering: .relaxed)
        return port == 0 ? nil : port
    }
}

extension ServerConfiguration {
    /// The base of share URLs: `--public-url`, else `http://HOST:PORT` with the port actually bound.
    public var shareBaseURL: String {
        let bound = ListeningPort.current.load(ordering: .relaxed)
        guard publicURL == nil, port == 0, bound != 0 else { return effectivePublicURL }
        var copy = self
        copy.port = bound
        return copy.effectivePublicURL
    }
}
