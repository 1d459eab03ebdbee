import AgentSandbox
import Foundation

/// The OpenAPI document served at `GET /openapi.json`, assembled once at start-up from `schemas/` so
/// that every schema has one source:
/// - `openapi.base.json`: `info`, security and the shared components (responses, parameters);
/// - `openapi.d/*.json`, in name order: fragments `{"paths", "components", "x-per-tool"}` whose paths and
///   components are added (a name defined twice stops the server, naming both files). A new route family
///   drops a fragment in; nobody edits one large file;
/// - `x-per-tool`: path templates expanded once per published tool — `{tool}` becomes the tool's name and
///   `{description}` its description — so each tool is its own operation with its own request schema;
/// - the request schemas themselves: `tools/<name>.json` as `#/components/schemas/tool_<name>`,
///   `exec/<name>.json` as `exec_<name>`, and `envelope.json` as `Envelope`.
///
/// Every local `$ref` must resolve, or assembly fails: a broken document never reaches a client.
public struct OpenAPIDocument: Sendable {
    /// The assembled document.
    public let json: JSONValue
    /// Its bytes, as served.
    public let data: Data

    public init(directory: URL, catalog: SchemaCatalog) throws {
        var document = try Self.load(directory.appendingPathComponent("openapi.base.json"))
        var origins: [String: String] = [:]
        func add(_ section: String, _ name: String, _ value: JSONValue, from file: String) throws {
            let key = section + " " + name
            if let earlier = origins[key] {
                throw ConfigurationError("OpenAPI \(section) '\(name)' is defined in both \(earlier) and \(file); keep one.")
            }
            origins[key] = file
            document.set(value, at: section.split(separator: "/").map(String.init) + [name])
        }
        for (section, entries) in Self.sections(of: document) {
            for name in entries.keys { origins[section + " " + name] = "openapi.base.json" }
        }
        let tools = catalog.tools.keys.sorted()
        for file in try Self.fragmentFiles(in: directory) {
            let fragment = try Self.load(directory.appendingPathComponent("openapi.d/\(file)"))
            for (section, entries) in Self.sections(of: fragment) {
                for (name, value) in entries { try add(section, name, value, from: file) }
            }
            for (template, item) in fragment["x-per-tool"]?.objectValue ?? [:] {
                for tool in tools {
                    let description = catalog.tools[tool]?["description"]?.stringValue ?? ""
                    let expanded = item.substituting(["{tool}": tool, "{description}": description])
                    try add("paths", template.replacingOccurrences(of: "{tool}", with: tool), expanded, from: file)
                }
            }
        }
        for (name, schema) in catalog.tools { try add("components/schemas", "tool_" + name, Self.embeddable(schema), from: "tools/\(name).json") }
        for (name, schema) in catalog.operations {
            try add("components/schemas", name.replacingOccurrences(of: "/", with: "_"), Self.embeddable(schema), from: "\(name).json")
        }
        try add("components/schemas", "Envelope", Self.embeddable(catalog.envelope), from: "envelope.json")
        if let missing = document.unresolvedReferences().first {
            throw ConfigurationError("the OpenAPI document refers to \(missing), which no file in \(directory.path) defines.")
        }
        json = document
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        data = try encoder.encode(document)
    }

    /// The fragment file names, in order.
    static func fragmentFiles(in directory: URL) throws -> [String] {
        let folder = directory.appendingPathComponent("openapi.d")
        guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
    }

    /// The named entries a document or fragment contributes: `paths` and each `components/<kind>`.
    static func sections(of document: JSONValue) -> [(String, [String: JSONValue])] {
        var result: [(String, [String: JSONValue])] = [("paths", document["paths"]?.objectValue ?? [:])]
        for (kind, entries) in document["components"]?.objectValue ?? [:] {
            result.append(("components/" + kind, entries.objectValue ?? [:]))
        }
        return result
    }

    /// A JSON Schema file as an OpenAPI component: without the document-level `$schema` and `$id`.
    static func embeddable(_ schema: JSONValue) -> JSONValue {
        guard var fields = schema.objectValue else { return schema }
        fields["$schema"] = nil
        fields["$id"] = nil
        return .object(fields)
    }

    static func load(_ url: URL) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url))
        } catch {
            throw ConfigurationError("cannot load the OpenAPI file \(url.path): \(error)")
        }
    }
}
