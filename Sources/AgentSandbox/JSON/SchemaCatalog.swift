import Foundation
import SandboxKernel

/// The published JSON Schemas (`schemas/`): the envelope and one request schema per tool.
///
/// Loaded once at start-up from the repository's `schemas/` directory; the validators used on every
/// request and the definitions served by `GET /v1/tools` both come from here.
public struct SchemaCatalog: Sendable {
    /// Tool name → its request schema (`schemas/tools/<name>.json`).
    public let tools: [String: JSONValue]
    /// Request schemas of the other operations, by `folder/name` (`exec/start` is `schemas/exec/start.json`;
    /// `mcp/exec_start` is one of the tools only MCP offers, beside the eight).
    public let operations: [String: JSONValue]
    /// `schemas/envelope.json`.
    public let envelope: JSONValue
    private let validators: [String: SchemaValidator]

    public init(directory: URL) throws {
        func load(_ url: URL) throws -> JSONValue {
            do {
                return try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url))
            } catch {
                throw ConfigurationError("cannot load schema \(url.path): \(error)")
            }
        }
        envelope = try load(directory.appendingPathComponent("envelope.json"))
        let toolDirectory = directory.appendingPathComponent("tools")
        var tools: [String: JSONValue] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: toolDirectory.path) where file.hasSuffix(".json") {
            tools[String(file.dropLast(5))] = try load(toolDirectory.appendingPathComponent(file))
        }
        self.tools = tools
        var operations: [String: JSONValue] = [:]
        for folder in ["exec", "agents", "xpander", "mcp", "snapshots", "previews", "cluster"] {
            let url = directory.appendingPathComponent(folder)
            for file in (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] where file.hasSuffix(".json") {
                operations["\(folder)/\(file.dropLast(5))"] = try load(url.appendingPathComponent(file))
            }
        }
        self.operations = operations
        validators = tools.merging(operations) { tool, _ in tool }.mapValues { SchemaValidator(schema: $0) }
    }

    /// The validator for a tool's or an operation's request (`bash`, `exec/start`), or nil when no schema
    /// is published for it.
    public func validator(for name: String) -> SchemaValidator? { validators[name] }

    /// Tool definitions for LLM function calling, in the shape `format` names.
    public func toolDefinitions(format: String) throws(ToolError) -> JSONValue {
        try Self.definitions(tools.keys.sorted().map { ($0, tools[$0]!) }, format: format)
    }

    /// Definitions, in the shape `format` names, of the tools whose schemas are the operations in
    /// `folder` (`mcp`: `exec_start`, `exec_output`, `exec_kill`), named by file.
    public func toolDefinitions(folder: String, format: String) throws(ToolError) -> JSONValue {
        let prefix = folder + "/"
        let named = operations.keys.filter { $0.hasPrefix(prefix) }.sorted().map { (String($0.dropFirst(prefix.count)), operations[$0]!) }
        return try Self.definitions(named, format: format)
    }

    private static func definitions(_ named: [(String, JSONValue)], format: String) throws(ToolError) -> JSONValue {
        switch format {
        case "json-schema":
            return .array(named.map(\.1))
        case "openai":
            return .array(named.map { name, schema in
                ["type": "function", "function": ["name": .string(name), "description": schema["description"] ?? "", "parameters": parameters(of: schema)]]
            })
        case "anthropic":
            return .array(named.map { name, schema in
                ["name": .string(name), "description": schema["description"] ?? "", "input_schema": parameters(of: schema)]
            })
        default:
            throw ToolError.invalidField("format", "must be one of \"json-schema\", \"openai\", \"anthropic\".")
        }
    }

    /// The schema without the document-level keys an LLM API does not accept.
    private static func parameters(of schema: JSONValue) -> JSONValue {
        guard var fields = schema.objectValue else { return [:] }
        for key in ["$schema", "$id", "title", "description", "x-aliases"] { fields[key] = nil }
        return .object(fields)
    }
}
