import HTTPTypes
import Hummingbird
import NIOCore

/// A direct JSON writer for the envelope: every tool call answers with one, and going through
/// `JSONEncoder` (containers, key conversion, sorting) cost more CPU than reading a small file.
///
/// Writes the same document as `JSONCoding.makeEncoder()`: the nine core keys always present
/// (`null` when unused), extras after them, keys sorted, slashes not escaped, UTF-8 as is.
extension Envelope {
    public func jsonBytes() -> [UInt8] {
        var fields: [(String, JSONValue)] = [
            ("status", .string(status.rawValue)),
            ("stdout", stdout.map(JSONValue.string) ?? .null),
            ("stderr", stderr.map(JSONValue.string) ?? .null),
            ("exit_code", exitCode.map { .number(Double($0)) } ?? .null),
            ("content", content.map(JSONValue.string) ?? .null),
            ("path", path.map(JSONValue.string) ?? .null),
            ("matches", matches.map(JSONValue.array) ?? .null),
            ("url", url.map(JSONValue.string) ?? .null),
            ("error", error.map(JSONValue.string) ?? .null),
        ]
        for (key, value) in extras where !Self.coreKeys.contains(key) { fields.append((key, value)) }
        fields.sort { $0.0 < $1.0 }
        var writer = JSONByteWriter()
        writer.output.reserveCapacity(256 + (content?.utf8.count ?? 0) + (stdout?.utf8.count ?? 0) + (stderr?.utf8.count ?? 0))
        writer.object(fields)
        return writer.output
    }
}

extension Response {
    /// An envelope response, written by `Envelope.jsonBytes()` (preferred over the generic
    /// `json(_:status:headers:)` for envelopes by overload resolution).
    static func json(_ envelope: Envelope, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: envelope.jsonBytes())))
    }
}

/// Appends JSON text to a byte array.
struct JSONByteWriter {
    var output: [UInt8] = []

    mutating func object(_ fields: [(String, JSONValue)]) {
        output.append(UInt8(ascii: "{"))
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            string(key)
            output.append(UInt8(ascii: ":"))
            self.value(value)
        }
        output.append(UInt8(ascii: "}"))
    }

    mutating func value(_ value: JSONValue) {
        switch value {
        case .null: output += "null".utf8
        case .bool(let flag): output += (flag ? "true" : "false").utf8
        case .number(let number): self.number(number)
        case .string(let text): string(text)
        case .array(let items):
            output.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                self.value(item)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let fields):
            object(fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
    }

    private mutating func number(_ number: Double) {
        if number.rounded() == number, abs(number) < 1e15 {
            output += String(Int64(number)).utf8
        } else if number.isFinite {
            output += String(number).utf8
        } else {
            output += "null".utf8
        }
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\n`, `\t`, … or `\u00XX`.
    mutating func string(_ text: String) {
        output.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                output += UnsafeBufferPointer(rebasing: bytes[start..<index])
                start = index + 1
                switch byte {
                case 0x22: output += #"\""#.utf8
                case 0x5C: output += #"\\"#.utf8
                case 0x0A: output += #"\n"#.utf8
                case 0x0D: output += #"\r"#.utf8
                case 0x09: output += #"\t"#.utf8
                case 0x08: output += #"\b"#.utf8
                case 0x0C: output += #"\f"#.utf8
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    output += #"\u00"#.utf8
                    output.append(hex[Int(byte >> 4)])
                    output.append(hex[Int(byte & 0xF)])
                }
            }
            output += UnsafeBufferPointer(rebasing: bytes[start...])
        }
        output.append(UInt8(ascii: "\""))
    }
}
