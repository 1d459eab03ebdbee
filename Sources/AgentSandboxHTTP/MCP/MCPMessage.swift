import AgentSandbox
import Foundation

/// What a JSON-RPC message is, as far as routing it needs: a request (its id, method and progress
/// token), a notification (its method, and the request it names: `progressToken` of a progress
/// notification, `requestId` of a cancellation), or a response (its id).
enum MCPMessage: Equatable {
    case request(id: String, method: String, progressToken: String?)
    case notification(method: String, subject: String?)
    case response(id: String)

    /// Classifies one message; nil when it is not a JSON-RPC object (batches are not supported).
    init?(_ data: Data) {
        if let id = Self.responseID(data) {
            self = .response(id: id)
            return
        }
        guard let message = try? JSONParser.parse(data), case .object(let fields) = message else { return nil }
        let method = fields["method"]?.stringValue
        switch (method, fields["id"]) {
        case (let method?, let id?) where id != .null:
            self = .request(id: Self.key(id), method: method, progressToken: fields["params"]?["_meta"]?["progressToken"].map(Self.key))
        case (let method?, _):
            let params = fields["params"]
            let subject = params?["progressToken"] ?? params?["requestId"]
            self = .notification(method: method, subject: subject.map(Self.key))
        case (nil, let id?) where fields["result"] != nil || fields["error"] != nil:
            self = .response(id: Self.key(id))
        default:
            return nil
        }
    }

    /// One string per JSON-RPC id or token: `1` and `"1"` stay apart.
    static func key(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): "s:" + text
        case .number(let number): "n:" + (number == number.rounded() && abs(number) < 9e15 ? String(Int(number)) : String(number))
        default: "?"
        }
    }

    /// The id of a response as the SDK writes it (`JSONEncoder` with sorted keys:
    /// `{"id":…,"jsonrpc":"2.0","result"|"error":…`), found without parsing the (possibly large) result.
    private static func responseID(_ data: Data) -> String? {
        let prefix = Array(#"{"id":"#.utf8)
        guard data.count > prefix.count, data.starts(with: prefix) else { return nil }
        var index = data.startIndex + prefix.count
        let start = index
        if data[index] == UInt8(ascii: "\"") {
            index += 1
            while index < data.endIndex, data[index] != UInt8(ascii: "\"") {
                if data[index] == UInt8(ascii: "\\") { return nil }  // escaped ids: take the slow path
                index += 1
            }
            guard index < data.endIndex else { return nil }
            index += 1
        } else {
            while index < data.endIndex, data[index] != UInt8(ascii: ",") { index += 1 }
        }
        let after = Array(#","jsonrpc":"2.0","#.utf8)
        let rest = data[index...]
        guard rest.starts(with: after) else { return nil }
        let key = rest.dropFirst(after.count)
        guard key.starts(with: Array(#""result""#.utf8)) || key.starts(with: Array(#""error""#.utf8)) else { return nil }
        guard let id = try? JSONParser.parse(data[start..<index]) else { return nil }
        return Self.key(id)
    }
}
