/// The generic tool response: `{status, stdout, stderr, exit_code, content, path, matches, url, error}`.
///
/// The nine core keys are always present (unused ones as `null`); additive keys such as `error_code`,
/// `truncated` or `total_lines` go in `extras` and appear only when set.
///
/// ```swift
/// var envelope = Envelope(stdout: "hi\n", stderr: "", exitCode: 0)
/// envelope.extras["duration_ms"] = 3
/// ```
public struct Envelope: Sendable, Equatable, Encodable {
    public enum Status: String, Sendable, Encodable { case ok, error }

    public var status: Status = .ok
    public var stdout: String?
    public var stderr: String?
    public var exitCode: Int32?
    public var content: String?
    public var path: String?
    /// The result list (glob paths, grep matches …). Reading it after `encodedMatches` was set parses
    /// the encoded array back.
    public var matches: [JSONValue]? {
        get {
            switch matchList {
            case .values(let values)?: values
            case .encoded(let encoded)?: encoded.values()
            case nil: nil
            }
        }
        set { matchList = newValue.map(MatchList.values) }
    }
    /// The result list as an array the tool wrote itself, copied into the response as is (for large
    /// results; see `EncodedJSONArray`).
    public var encodedMatches: EncodedJSONArray? {
        get { if case .encoded(let encoded)? = matchList { encoded } else { nil } }
        set { matchList = newValue.map(MatchList.encoded) }
    }
    public var url: String?
    public var error: String?
    public var extras: [String: JSONValue] = [:]

    private enum MatchList: Sendable, Equatable {
        case values([JSONValue])
        case encoded(EncodedJSONArray)
    }
    private var matchList: MatchList?

    public init(
        stdout: String? = nil, stderr: String? = nil, exitCode: Int32? = nil, content: String? = nil,
        path: String? = nil, matches: [JSONValue]? = nil, url: String? = nil, extras: [String: JSONValue] = [:]
    ) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitCode = exitCode
        self.content = content
        self.path = path
        self.matches = matches
        self.url = url
        self.extras = extras
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The core keys (on the wire they are written sorted, with the extras among them).
    public static let coreKeys = ["status", "stdout", "stderr", "exit_code", "content", "path", "matches", "url", "error"]

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(status, forKey: Key("status"))
        try container.encode(stdout, forKey: Key("stdout"))
        try container.encode(stderr, forKey: Key("stderr"))
        try container.encode(exitCode, forKey: Key("exit_code"))
        try container.encode(content, forKey: Key("content"))
        try container.encode(path, forKey: Key("path"))
        try container.encode(matches, forKey: Key("matches"))
        try container.encode(url, forKey: Key("url"))
        try container.encode(error, forKey: Key("error"))
        for (key, value) in extras where !Self.coreKeys.contains(key) {
            try container.encode(value, forKey: Key(key))
        }
    }
}
