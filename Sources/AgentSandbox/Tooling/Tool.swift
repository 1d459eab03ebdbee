import Foundation

/// A tool an agent can call: a name (equal to its schema file `schemas/tools/<name>.json`), a
/// `Decodable` input, and `run`, which answers with an envelope or throws a `ToolError`.
///
/// ```swift
/// struct EchoTool: Tool {
///     struct Input: Decodable, Sendable { var text: String }
///     static let name = "echo"
///     func run(_ input: Input, context: ToolContext) async throws -> Envelope { Envelope(content: input.text) }
/// }
/// ```
public protocol Tool: Sendable {
    associatedtype Input: Decodable & Sendable
    static var name: String { get }
    func run(_ input: Input, context: ToolContext) async throws -> Envelope
}

/// What a tool call runs with: the agent's workspace and the server's settings.
public struct ToolContext: Sendable {
    public let workspace: Workspace
    public let configuration: ServerConfiguration
    /// Publishes file snapshots (`file_share`); nil where shares are not offered.
    public var shares: ShareService?
    public var limits: ResourceLimits { configuration.limits }

    public init(workspace: Workspace, configuration: ServerConfiguration) {
        self.workspace = workspace
        self.configuration = configuration
    }
}

/// The tools the dispatcher knows, by name, each paired with its published schema.
public struct ToolRegistry: Sendable {
    struct Entry: Sendable {
        let run: @Sendable (JSONValue, ToolContext) async throws -> Envelope
    }

    private var entries: [String: Entry] = [:]

    public init() {}

    public var names: [String] { entries.keys.sorted() }

    public mutating func register<T: Tool>(_ tool: T) {
        entries[T.name] = Entry { input, context in
            let decoded: T.Input
            do {
                decoded = try JSONValueDecoder().decode(T.Input.self, from: input)
            } catch {
                throw ToolError(.invalidRequest, "The input for \(T.name) does not match its schema: \(error)")
            }
            return try await tool.run(decoded, context: context)
        }
    }

    /// Validates `input` against the tool's schema and runs it.
    nonisolated(nonsending) public func call(_ name: String, input: JSONValue, schemas: SchemaCatalog, context: ToolContext) async throws -> Envelope {
        let entry = try entry(named: name)
        guard let validator = schemas.validator(for: name) else {
            throw ToolError(.internalError, "No schema is published for tool '\(name)'.")
        }
        return try await entry.run(try validator.validate(input), context)
    }

    /// Checks the name before any other work (404 for unknown tools).
    func entry(named name: String) throws(ToolError) -> Entry {
        guard let entry = entries[name] else {
            throw ToolError(.toolNotFound, "Unknown tool '\(name.prefix(64))'. Available tools: \(names.joined(separator: ", ")).")
        }
        return entry
    }

    public func contains(_ name: String) -> Bool { entries[name] != nil }
}

/// A tool whose work is synchronous file-system I/O: it implements `runBlocking`, and runs on the
/// blocking-work pool instead of Swift's cooperative threads.
public protocol BlockingTool: Tool {
    func runBlocking(_ input: Input, context: ToolContext) throws -> Envelope
}

extension BlockingTool {
    public func run(_ input: Input, context: ToolContext) async throws -> Envelope {
        try await BlockingWork.run { try self.runBlocking(input, context: context) }
    }
}
