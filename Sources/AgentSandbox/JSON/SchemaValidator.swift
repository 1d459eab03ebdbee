/// Validates a request against the JSON Schema published in `schemas/` — the same document
/// `GET /v1/tools` serves, so the contract and the check cannot drift apart.
///
/// Supports the subset the tool schemas use: `type` (one or several), `properties`, `required`,
/// `items`, `enum`, `minimum`/`maximum`, `minLength`/`maxLength`, `minItems`/`maxItems`,
/// `additionalProperties` (schema form, for maps such as `env`), `default`, and the extension
/// `x-aliases` (`{"file_path": "path"}`: the alias is accepted for the canonical field).
/// Unknown request fields are ignored, as the design asks.
public struct SchemaValidator: Sendable {
    /// The schema's keywords read once, so a request costs no dictionary lookups into the schema.
    private let root: Node

    public init(schema: JSONValue) {
        root = Node(schema)
    }

    /// Returns the input with aliases renamed and defaults filled in, or throws a 400 naming the field.
    public func validate(_ input: JSONValue) throws(ToolError) -> JSONValue {
        try normalize(input, against: root, at: "")
    }

    /// One schema object's keywords.
    private final class Node: Sendable {
        let types: [String]?
        let properties: [(name: String, schema: Node)]
        let propertyNames: Set<String>
        let required: [String]
        let defaultValue: JSONValue?
        let aliases: [(alias: String, canonical: String)]
        let items: Node?
        let additional: Node?
        let minimum, maximum, minLength, maxLength, minItems, maxItems: Double?
        let options: [JSONValue]?

        init(_ schema: JSONValue) {
            switch schema["type"] {
            case .string(let single): types = [single]
            case .array(let several): types = several.compactMap(\.stringValue)
            default: types = nil
            }
            let properties = (schema["properties"]?.objectValue ?? [:]).map { (name: $0.key, schema: Node($0.value)) }
            self.properties = properties
            propertyNames = Set(properties.map(\.name))
            required = (schema["required"]?.arrayValue ?? []).compactMap(\.stringValue)
            defaultValue = schema["default"]
            aliases = (schema["x-aliases"]?.objectValue ?? [:]).compactMap { alias, target in target.stringValue.map { (alias: alias, canonical: $0) } }
            items = schema["items"].map(Node.init)
            additional = schema["additionalProperties"].flatMap { $0.objectValue != nil ? Node($0) : nil }
            minimum = schema["minimum"]?.doubleValue
            maximum = schema["maximum"]?.doubleValue
            minLength = schema["minLength"]?.doubleValue
            maxLength = schema["maxLength"]?.doubleValue
            minItems = schema["minItems"]?.doubleValue
            maxItems = schema["maxItems"]?.doubleValue
            options = schema["enum"]?.arrayValue
        }
    }

    private func normalize(_ value: JSONValue, against schema: Node, at path: String) throws(ToolError) -> JSONValue {
        try checkType(value, schema: schema, at: path)
        switch value {
        case .object(var fields):
            applyAliases(&fields, schema: schema)
            for name in schema.required where fields[name] == nil || fields[name] == .null {
                throw ToolError(.invalidRequest, "Missing required field `\(join(path, name))`.")
            }
            for (name, propertySchema) in schema.properties {
                if let present = fields[name], present != .null {
                    fields[name] = try normalize(present, against: propertySchema, at: join(path, name))
                } else if let fallback = propertySchema.defaultValue {
                    fields[name] = fallback
                } else {
                    fields[name] = nil
                }
            }
            if let extra = schema.additional {
                for (name, field) in fields where !schema.propertyNames.contains(name) {
                    fields[name] = try normalize(field, against: extra, at: join(path, name))
                }
            }
            return .object(fields)
        case .array(let items):
            try checkCount(items.count, schema: schema, at: path)
            guard let itemSchema = schema.items else { return value }
            var normalized: [JSONValue] = []
            normalized.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                normalized.append(try normalize(item, against: itemSchema, at: "\(path)[\(index)]"))
            }
            return .array(normalized)
        case .string(let text):
            try checkLength(text, schema: schema, at: path)
            try checkEnum(value, schema: schema, at: path)
            return value
        case .number(let number):
            try checkRange(number, schema: schema, at: path)
            try checkEnum(value, schema: schema, at: path)
            return value
        case .bool, .null:
            return value
        }
    }

    private func applyAliases(_ fields: inout [String: JSONValue], schema: Node) {
        for (alias, canonical) in schema.aliases {
            guard let aliased = fields[alias] else { continue }
            if fields[canonical] == nil || fields[canonical] == .null { fields[canonical] = aliased }
            fields[alias] = nil
        }
    }

    private func checkType(_ value: JSONValue, schema: Node, at path: String) throws(ToolError) {
        guard let allowed = schema.types else { return }
        let actual = value.typeName
        if allowed.contains(actual) || (actual == "integer" && allowed.contains("number")) { return }
        let expected = allowed.map(Self.article).joined(separator: " or ")
        throw ToolError.invalidField(path.isEmpty ? "body" : path, "must be \(expected), not \(Self.article(actual)).")
    }

    private func checkRange(_ number: Double, schema: Node, at path: String) throws(ToolError) {
        let minimum = schema.minimum
        let maximum = schema.maximum
        if let minimum, number < minimum { throw outOfRange(path, number, minimum, maximum) }
        if let maximum, number > maximum { throw outOfRange(path, number, minimum, maximum) }
    }

    private func outOfRange(_ path: String, _ number: Double, _ minimum: Double?, _ maximum: Double?) -> ToolError {
        let bounds = switch (minimum, maximum) {
        case let (low?, high?): "between \(Self.format(low)) and \(Self.format(high))"
        case let (low?, nil): "at least \(Self.format(low))"
        case let (nil, high?): "at most \(Self.format(high))"
        case (nil, nil): "in range"
        }
        return ToolError.invalidField(path, "must be \(bounds) (got \(Self.format(number))).")
    }

    private func checkLength(_ text: String, schema: Node, at path: String) throws(ToolError) {
        if let minimum = schema.minLength, text.isEmpty || Double(text.count) < minimum {
            if minimum > 0 { throw ToolError.invalidField(path, "must not be empty.") }
        }
        if let maximum = schema.maxLength, Double(text.utf8.count) > maximum {
            throw ToolError.invalidField(path, "is too long (\(text.utf8.count) bytes; the limit is \(Self.format(maximum))).")
        }
    }

    private func checkCount(_ count: Int, schema: Node, at path: String) throws(ToolError) {
        if let minimum = schema.minItems, Double(count) < minimum {
            throw ToolError.invalidField(path, "needs at least \(Self.format(minimum)) item(s).")
        }
        if let maximum = schema.maxItems, Double(count) > maximum {
            throw ToolError.invalidField(path, "has \(count) items; the limit is \(Self.format(maximum)).")
        }
    }

    private func checkEnum(_ value: JSONValue, schema: Node, at path: String) throws(ToolError) {
        guard let options = schema.options, !options.contains(value) else { return }
        let listed = options.map { $0.stringValue.map { "\"\($0)\"" } ?? "\($0)" }.joined(separator: ", ")
        throw ToolError.invalidField(path, "must be one of \(listed).")
    }

    private func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    private static func article(_ type: String) -> String {
        ["integer", "array", "object"].contains(type) ? "an \(type)" : "a \(type)"
    }

    private static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}
