import AgentSandbox
import MCP

/// Conversions between the server's `JSONValue` and the MCP SDK's `Value` (arguments in, envelopes out).
extension JSONValue {
    init(_ value: MCP.Value) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .number(Double(number))
        case .double(let number): self = .number(number)
        case .string(let text): self = .string(text)
        case .data(_, let bytes): self = .string(bytes.base64EncodedString())
        case .array(let items): self = .array(items.map { JSONValue($0) })
        case .object(let fields): self = .object(fields.mapValues { JSONValue($0) })
        }
    }
}

extension MCP.Value {
    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .number(let number):
            // Integral numbers travel as integers (exit codes, line numbers), the rest as doubles.
            if number == number.rounded(), abs(number) < 9.0e15 { self = .int(Int(number)) } else { self = .double(number) }
        case .string(let text): self = .string(text)
        case .array(let items): self = .array(items.map { MCP.Value($0) })
        case .object(let fields): self = .object(fields.mapValues { MCP.Value($0) })
        }
    }
}

extension Envelope {
    /// The envelope as one JSON object: the nine core keys (unused ones `null`) and the extras.
    var jsonValue: JSONValue {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        var fields: [String: JSONValue] = [
            "status": .string(status.rawValue), "stdout": text(stdout), "stderr": text(stderr),
            "exit_code": exitCode.map { .number(Double($0)) } ?? .null, "content": text(content), "path": text(path),
            "matches": matches.map(JSONValue.array) ?? .null, "url": text(url), "error": text(error),
        ]
        for (key, value) in extras where fields[key] == nil { fields[key] = value }
        return .object(fields)
    }
}
