import AgentSandboxHTTP
import Logging
import Synchronization
import Testing

/// `DeferredMetadataLogHandler` writes the lines `StreamLogHandler` would, though it formats a logger's
/// metadata only when a line is written.
struct LogHandlerTests {
    final class Written: Sendable {
        let text = Mutex("")
    }

    struct Capture: TextOutputStream, Sendable {
        let written: Written
        func write(_ string: String) { written.text.withLock { $0 += string } }
    }

    private func logger(writingTo written: Written, provider: Logger.MetadataProvider) -> Logger {
        Logger(label: "test") { label in
            DeferredMetadataLogHandler(StreamLogHandler(label: label, stream: Capture(written: written), metadataProvider: nil), metadataProvider: provider)
        }
    }

    /// The logger's metadata, the provider's (the request id) and the line's own are all on the line,
    /// sorted by key as `StreamLogHandler` writes them; a line's own wins over the provider's, which
    /// wins over the logger's.
    @Test func everyLineCarriesTheLoggersTheProvidersAndItsOwnMetadata() {
        let written = Written()
        var logger = logger(writingTo: written, provider: Logger.MetadataProvider { ["request_id": "r-7"] })
        logger[metadataKey: "hb.request.id"] = "abc"
        logger.info("hello", metadata: ["tool": "bash"])
        logger[metadataKey: "request_id"] = "from-logger"
        logger.info("provider wins")
        logger.info("line wins", metadata: ["request_id": "from-line"])
        let lines = written.text.withLock { $0 }.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines.first?.hasSuffix(" info test: hb.request.id=abc request_id=r-7 tool=bash [AgentSandboxTests] hello") == true, "\(lines)")
        #expect(lines.dropFirst().first?.hasSuffix(" info test: hb.request.id=abc request_id=r-7 [AgentSandboxTests] provider wins") == true, "\(lines)")
        #expect(lines.last?.hasSuffix(" info test: hb.request.id=abc request_id=from-line [AgentSandboxTests] line wins") == true, "\(lines)")
    }

    /// Without any metadata, a line is the bare `StreamLogHandler` line; the level filter still applies.
    @Test func aLineWithoutMetadataHasNoneAndTheLevelStillFilters() {
        let written = Written()
        var logger = logger(writingTo: written, provider: Logger.MetadataProvider { [:] })
        logger.logLevel = .warning
        logger.info("dropped")
        logger.warning("kept")
        let text = written.text.withLock { $0 }
        #expect(!text.contains("dropped"))
        #expect(text.hasSuffix(" warning test: [AgentSandboxTests] kept\n"), "\(text)")
    }
}
