import Foundation
import SandboxKernel

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

/// What a tool call runs with: the agent's workspace (its paths, identity, limits and launcher).
public struct ToolContext: Sendable {
    public var workspace: Workspace
    /// Publishes file snapshots (`file_share`); nil where shares are not offered.
    public var shares: ShareService?

    public init(workspace: Workspace, shares: ShareService? = nil) {
        self.workspace = workspace
        self.shares = shares
    }
}

/// The tools the pipeline knows, by name. Each is stored type-erased: validated JSON in, its typed
/// `Input` decoded, the envelope out.
public struct ToolRegistry: Sendable {
    /// Runs one tool on validated input.
    public typealias Runner = @Sendable (JSONValue, ToolContext) async throws -> Envelope

    private var entries: [String: Runner] = [:]

    public init() {}

    public var names: [String] { entries.keys.sorted() }

    public mutating func register<T: Tool>(_ tool: T) {
        entries[T.name] = { input, context in
            // Validation already normalised the input; a `DecodingError` here becomes a 400 naming the
            // field (see `ToolError(normalizing:)`).
            try await tool.run(try JSONValueDecoder().decode(T.Input.self, from: input), context: context)
        }
    }

    /// The runner of the tool called `name`, or nil for an unknown tool.
    public func runner(named name: String) -> Runner? { entries[name] }

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
