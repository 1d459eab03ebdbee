import Foundation

/// An agent's id: any UUID, case-insensitive, stored lower-case.
public struct AgentID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// Parses `text`; throws a 400 that says what an agent id looks like.
    public init(_ text: String) throws(ToolError) {
        if let canonical = Self.canonical(text) {
            rawValue = canonical
            return
        }
        guard let uuid = UUID(uuidString: text) else {
            throw ToolError(.invalidRequest, "Invalid agent id '\(text.prefix(80))': an agent id is a UUID such as 3f2b6c1e-8d4a-4b7e-9c21-5a6d7e8f9a0b.")
        }
        rawValue = uuid.uuidString.lowercased()
    }

    /// A new random (v4) id.
    public static func random() -> AgentID { AgentID(rawValue: UUID().uuidString.lowercased()) }

    private init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    /// `text` lower-cased when it is already in the 8-4-4-4-12 hex form (every id a client sends back),
    /// without `UUID`'s sscanf/snprintf round trip; nil sends other spellings through `UUID(uuidString:)`.
    private static func canonical(_ text: String) -> String? {
        var bytes = Array(text.utf8)
        guard bytes.count == 36 else { return nil }
        for index in bytes.indices {
            let byte = bytes[index]
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
            } else if byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "F") {
                bytes[index] = byte + 0x20
            } else {
                guard (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f")) else { return nil }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
