import HTTPTypes

/// Every failure the API reports: a stable `error_code`, a sentence that tells the caller what to do,
/// and — decided here, in one `switch` — the HTTP status it travels with.
///
/// Tool-level failures (the tool ran and could not do what was asked) are HTTP 200 with
/// `status: "error"`; request-level failures carry their HTTP error status. Both use the envelope.
public struct ToolError: Error, Sendable, Equatable {
    public enum Code: String, Sendable {
        // Request-level.
        case invalidRequest = "INVALID_REQUEST"
        case unauthorized = "UNAUTHORIZED"
        case notFound = "NOT_FOUND"
        case toolNotFound = "TOOL_NOT_FOUND"
        case agentNotFound = "AGENT_NOT_FOUND"
        case methodNotAllowed = "METHOD_NOT_ALLOWED"
        case agentSuspended = "AGENT_SUSPENDED"
        case agentExists = "AGENT_EXISTS"
        case agentDeleted = "AGENT_DELETED"
        case payloadTooLarge = "PAYLOAD_TOO_LARGE"
        case headersTooLarge = "HEADERS_TOO_LARGE"
        case uriTooLong = "URI_TOO_LONG"
        case requestTimeout = "REQUEST_TIMEOUT"
        case tooManyRequests = "TOO_MANY_REQUESTS"
        case uidRangeExhausted = "UID_RANGE_EXHAUSTED"
        /// The server is short of descriptors, memory or processes: retry shortly.
        case serverBusy = "SERVER_BUSY"
        case internalError = "INTERNAL_ERROR"
        /// A proxied upstream (an agent's preview port, a cluster node) could not be reached or broke off
        /// before answering: 502.
        case upstreamUnavailable = "UPSTREAM_UNAVAILABLE"
        /// Cluster: the node that owns the agent stopped heartbeating (or no node has room for a new
        /// agent): 503, retry later; other agents keep working.
        case nodeUnavailable = "NODE_UNAVAILABLE"
        /// Cluster: the agent is being moved to another node: 409 with `Retry-After`.
        case agentMoving = "AGENT_MOVING"
        /// The agent's network mode gives it no namespace a preview could reach (`host`, `none`): 409.
        case previewUnavailable = "PREVIEW_UNAVAILABLE"
        case archiveInvalid = "ARCHIVE_INVALID"
        case archiveUnsafe = "ARCHIVE_UNSAFE"
        case archiveTooLarge = "ARCHIVE_TOO_LARGE"
        case insufficientStorage = "INSUFFICIENT_STORAGE"
        /// The agent's disk cap (`limits.disk_bytes`) is full: 507, nothing was written.
        case diskQuotaExceeded = "DISK_QUOTA_EXCEEDED"
        // Exec sessions (request-level).
        case sessionNotFound = "SESSION_NOT_FOUND"
        case sessionNotRunning = "SESSION_NOT_RUNNING"
        case stdinClosed = "STDIN_CLOSED"
        // Snapshots and watches (request-level).
        case snapshotNotFound = "SNAPSHOT_NOT_FOUND"
        case snapshotQuotaExceeded = "SNAPSHOT_QUOTA_EXCEEDED"
        case watchLimitExceeded = "WATCH_LIMIT_EXCEEDED"
        // Exec tokens (the terminal WebSocket): unknown, expired, already used, or minted for another
        // agent or session.
        case tokenInvalid = "TOKEN_INVALID"
        case tokenExpired = "TOKEN_EXPIRED"
        case tokenUsed = "TOKEN_USED"
        case tokenForeign = "TOKEN_FOREIGN"
        // Tool-level.
        case fileNotFound = "FILE_NOT_FOUND"
        case isADirectory = "IS_A_DIRECTORY"
        case notADirectory = "NOT_A_DIRECTORY"
        case notARegularFile = "NOT_A_REGULAR_FILE"
        case pathOutsideWorkspace = "PATH_OUTSIDE_WORKSPACE"
        case permissionDenied = "PERMISSION_DENIED"
        case binaryFile = "BINARY_FILE"
        case lineOutOfRange = "LINE_OUT_OF_RANGE"
        case editNotFound = "EDIT_NOT_FOUND"
        case editNotUnique = "EDIT_NOT_UNIQUE"
        case editNoChange = "EDIT_NO_CHANGE"
        case fileTooLarge = "FILE_TOO_LARGE"
        case shareQuotaExceeded = "SHARE_QUOTA_EXCEEDED"
        case invalidPattern = "INVALID_PATTERN"
        case invalidContent = "INVALID_CONTENT"
        case encodingMismatch = "ENCODING_MISMATCH"
        case timeout = "TIMEOUT"
        /// The caller cancelled the call (MCP cancellation, a client that left): its processes were killed.
        case cancelled = "CANCELLED"
        case execFailed = "EXEC_FAILED"
        case noSpace = "NO_SPACE"
        case ioError = "IO_ERROR"
    }

    public var code: Code
    public var message: String
    /// Additive envelope keys that travel with the error (e.g. partial `stdout` of a timed-out command).
    public var envelope: Envelope?

    public init(_ code: Code, _ message: String, envelope: Envelope? = nil) {
        self.code = code
        self.message = message
        self.envelope = envelope
    }

    /// The HTTP status for this error: the only place that decides it.
    public var httpStatus: HTTPResponse.Status {
        switch code {
        case .invalidRequest: .badRequest
        case .unauthorized: .unauthorized
        case .notFound, .toolNotFound, .agentNotFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .agentSuspended, .agentExists, .agentMoving, .previewUnavailable: .conflict
        case .agentDeleted: .gone
        case .payloadTooLarge, .archiveTooLarge: .contentTooLarge
        case .headersTooLarge: .requestHeaderFieldsTooLarge
        case .uriTooLong: .uriTooLong
        case .requestTimeout: .requestTimeout
        case .archiveInvalid, .archiveUnsafe: .badRequest
        case .insufficientStorage, .diskQuotaExceeded: HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
        case .tooManyRequests: .tooManyRequests
        case .uidRangeExhausted, .serverBusy, .nodeUnavailable: .serviceUnavailable
        case .internalError: .internalServerError
        case .upstreamUnavailable: .badGateway
        case .sessionNotFound: .notFound
        case .sessionNotRunning, .stdinClosed: .conflict
        case .snapshotNotFound: .notFound
        case .snapshotQuotaExceeded, .watchLimitExceeded: .conflict
        case .tokenInvalid, .tokenExpired, .tokenUsed: .unauthorized
        case .tokenForeign: .forbidden
        case .fileNotFound, .isADirectory, .notADirectory, .notARegularFile, .pathOutsideWorkspace,
            .permissionDenied, .binaryFile, .lineOutOfRange, .editNotFound, .editNotUnique, .editNoChange,
            .fileTooLarge, .shareQuotaExceeded, .invalidPattern, .invalidContent, .encodingMismatch, .timeout, .cancelled, .execFailed, .noSpace, .ioError:
            .ok
        }
    }

    /// Seconds a client should wait before retrying (`Retry-After`), for the errors that pass.
    public var retryAfterSeconds: Int? {
        switch code {
        case .agentMoving: 1
        case .nodeUnavailable: 5
        default: nil
        }
    }

    /// The error as an envelope: `status: "error"`, `error`, `error_code`, plus any partial results.
    public var asEnvelope: Envelope {
        var result = envelope ?? Envelope()
        result.status = .error
        result.error = message
        result.extras["error_code"] = .string(code.rawValue)
        return result
    }

    /// A 400 that names the offending field.
    public static func invalidField(_ field: String, _ problem: String) -> ToolError {
        ToolError(.invalidRequest, "Field `\(field)` \(problem)")
    }
}
