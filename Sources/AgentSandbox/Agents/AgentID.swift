import Foundation

/// An agent's id: any UUID, case-insensitive, stored lower-case.
public struct AgentID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// Parses `text`; throws a 400 that says what an agent id looks like.
    public init(_ text: String) throws(ToolError) {
        guard let uuid = UUID(uuidString: text) else {
            throw ToolError(.invalidRequest, "Invalid agent id '\(text.prefix(80))': an agent id is a UUID such as 3f2b6c1e-8d4a-4b7e-9c21-5a6d7e8f9a0b.")
        }
        rawValue = uuid.uuidString.lowercased()
    }

    /// A new random (v4) id.
    public static func random() -> AgentID { try! AgentID(UUID().uuidString) }

    public var description: String { rawValue }
}
