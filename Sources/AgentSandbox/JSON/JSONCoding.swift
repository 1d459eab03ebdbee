import Foundation

/// The one JSON encoder/decoder pair of the project: snake_case on the wire, camelCase in Swift.
public enum JSONCoding {
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// Decodes a request body into a `JSONValue`, mapping syntax errors to a 400 the caller can act on.
    public static func parseBody(_ data: Data) throws(ToolError) -> JSONValue {
        try parseBody(bytes: data)
    }

    /// `parseBody` over any bytes (a request's `ByteBuffer` view is parsed in place). Inlinable, so that
    /// the HTTP module's call is specialised for its bytes (unspecialised, each request body's bytes were
    /// reached through the generic witnesses).
    @inlinable public static func parseBody(bytes: some Collection<UInt8>) throws(ToolError) -> JSONValue {
        if bytes.isEmpty { throw ToolError(.invalidRequest, "The request body is empty; send a JSON object.") }
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw ToolError(.invalidRequest, "The request body is not valid JSON (\(error.description)). Send a JSON object.")
        }
    }
}
