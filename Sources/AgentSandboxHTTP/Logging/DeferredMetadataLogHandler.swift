import Logging

/// swift-log's `StreamLogHandler` (standard error, the same line format), except that the logger's
/// metadata is formatted when a line is written rather than whenever a key is set.
///
/// `StreamLogHandler` re-formats all of its metadata on every `logger[metadataKey:] = …`, and
/// Hummingbird sets one key (`hb.request.id`) on every request's logger: about 2 % of the server's CPU
/// per `file_read` (perf, `scripts/bench-files`), for lines that an info-level server rarely writes.
public struct DeferredMetadataLogHandler: LogHandler {
    private var stream: StreamLogHandler
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    /// Writes to standard error, as `StreamLogHandler.standardError` does.
    public init(label: String, metadataProvider: Logger.MetadataProvider?) {
        self.init(StreamLogHandler.standardError(label: label, metadataProvider: nil), metadataProvider: metadataProvider)
    }

    /// Writes through `stream` (its own metadata and provider are not used).
    public init(_ stream: StreamLogHandler, metadataProvider: Logger.MetadataProvider?) {
        self.stream = stream
        self.metadataProvider = metadataProvider
    }

    public var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The logger's metadata, then the provider's, then the line's own (each overriding the one
    /// before, as `StreamLogHandler` merges them), handed to the stream as the line's metadata.
    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, provided in provided }
        }
        if let explicit = event.metadata {
            merged.merge(explicit) { _, explicit in explicit }
        }
        var event = event
        event.metadata = merged.isEmpty ? nil : merged
        stream.log(event: event)
    }
}
