import AgentSandbox

/// A tool call as a model API emits it, read from `POST …/tools/call`, and the tool-result message that
/// API expects back (`?reply=anthropic|openai`).
///
/// Accepted: an Anthropic `tool_use` block `{type, id, name, input}`, an OpenAI Chat tool call
/// `{id, type: "function", function: {name, arguments: "<JSON>"}}`, an OpenAI Responses
/// `{type: "function_call", call_id, name, arguments}`, and our own `{name, input}`.
struct ToolCallShape: Sendable {
    enum Kind: Sendable { case plain, anthropic, openAIChat, openAIResponses }

    let kind: Kind
    /// The model's id for the call (`tool_use_id`, `tool_call_id`, `call_id`), when it gave one.
    let id: String?
    let name: String
    let input: JSONValue

    /// Reads one call; `position` names it in errors when it came in an array (`[2]`).
    init(_ body: JSONValue, position: String = "") throws(ToolError) {
        guard case .object = body else {
            throw ToolError.invalidField(position.isEmpty ? "(body)" : position, "must be a tool call object: {\"name\", \"input\"}, an Anthropic tool_use block, or an OpenAI tool call.")
        }
        func field(_ name: String) -> String { position.isEmpty ? name : "\(position).\(name)" }
        func string(_ value: JSONValue?, _ name: String) throws(ToolError) -> String {
            guard case .string(let text)? = value, !text.isEmpty else {
                throw ToolError.invalidField(field(name), "is required and must be a string naming the tool (e.g. \"bash\").")
            }
            return text
        }
        switch body["type"]?.stringValue {
        case "tool_use":
            kind = .anthropic
            id = body["id"]?.stringValue
            name = try string(body["name"], "name")
            input = try Self.object(body["input"] ?? .object([:]), field("input"))
        case "function" where body["function"] != nil:
            kind = .openAIChat
            id = body["id"]?.stringValue
            name = try string(body["function"]?["name"], "function.name")
            input = try Self.arguments(body["function"]?["arguments"], field("function.arguments"))
        case "function_call":
            kind = .openAIResponses
            id = body["call_id"]?.stringValue ?? body["id"]?.stringValue
            name = try string(body["name"], "name")
            input = try Self.arguments(body["arguments"], field("arguments"))
        default:
            kind = .plain
            id = body["id"]?.stringValue
            name = try string(body["name"], "name")
            input = try Self.object(body["input"] ?? body["arguments"] ?? .object([:]), field("input"))
        }
    }

    /// OpenAI sends arguments as a JSON string (an object is accepted too).
    private static func arguments(_ value: JSONValue?, _ field: String) throws(ToolError) -> JSONValue {
        switch value {
        case nil, .null?: return .object([:])
        case .string(let text)?:
            if text.isEmpty { return .object([:]) }
            let parsed: JSONValue
            do {
                parsed = try JSONCoding.parseBody(bytes: Array(text.utf8))
            } catch {
                throw ToolError.invalidField(field, "must be a JSON object encoded as a string (the model's arguments did not parse).")
            }
            return try object(parsed, field)
        case let value?:
            return try object(value, field)
        }
    }

    private static func object(_ value: JSONValue, _ field: String) throws(ToolError) -> JSONValue {
        guard case .object = value else { throw ToolError.invalidField(field, "must be an object.") }
        return value
    }

    /// The tool-result message for `style`, content written for a model.
    func reply(_ result: Result<Envelope, ToolError>, style: ReplyStyle) -> JSONValue {
        let envelope: Envelope
        switch result {
        case .success(let value): envelope = value
        case .failure(let error): envelope = error.asEnvelope
        }
        let text = JSONValue.string(ModelText.render(envelope, tool: name))
        let isError = envelope.status == .error
        let callID: JSONValue = id.map(JSONValue.string) ?? .null
        switch style {
        case .anthropic:
            return ["type": "tool_result", "tool_use_id": callID, "content": text, "is_error": .bool(isError)]
        case .openai where kind == .openAIResponses:
            return ["type": "function_call_output", "call_id": callID, "output": text]
        case .openai:
            return ["role": "tool", "tool_call_id": callID, "content": text]
        }
    }

    /// `?reply=`: which API's tool-result message to answer with.
    enum ReplyStyle: String, Sendable {
        case anthropic, openai

        init?(query: String?) throws(ToolError) {
            guard let query else { return nil }
            guard let style = ReplyStyle(rawValue: query.lowercased()) else {
                throw ToolError.invalidField("reply", "must be \"anthropic\" or \"openai\".")
            }
            self = style
        }
    }
}
