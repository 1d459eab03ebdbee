import Foundation

/// The published JSON Schemas (`schemas/`): the envelope and one request schema per tool.
///
/// Loaded once at start-up from the repository's `schemas/` directory; the validators used on every
/// request and the definitions served by `GET /v1/tools` both come from here.
public struct SchemaCatalog: Sendable {
    /// Tool name → its request schema (`schemas/tools/<name>.json`).
    public let tools: [String: JSONValue]
    /// Request schemas of the other operations, by `folder/name` (`exec/start` is `schemas/exec/start.json`).
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
        for folder in ["exec", "agents", "xpander", "snapshots"] {
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
        let names = tools.keys.sorted()
        switch format {
        case "json-schema":
            return .array(names.map { tools[$0]! })
        case "openai":
            return .array(names.map { name in
                ["type": "function", "function": ["name": .string(name), "description": description(of: name), "parameters": parameters(of: name)]]
            })
        case "anthropic":
            return .array(names.map { name in
                ["name": .string(name), "description": description(of: name), "input_schema": parameters(of: name)]
            })
        default:
            throw ToolError.invalidField("format", "must be one of \"json-schema\", \"openai\", \"anthropic\".")
        }
    }

    private func description(of tool: String) -> JSONValue { tools[tool]?["description"] ?? "" }

    /// The schema without the document-level keys an LLM API does not accept.
    private func parameters(of tool: String) -> JSONValue {
        guard var fields = tools[tool]?.objectValue else { return [:] }
        for key in ["$schema", "$id", "title", "description", "x-aliases"] { fields[key] = nil }
        return .object(fields)
    }
}
