/// A forward-only reader over one JSON document that decodes only the members a caller asks for
/// and skips the rest without building them: for machine output read by the line, such as
/// `rg --json`, where `JSONParser` would build a dictionary per line.
///
/// Strings, numbers and escapes are read exactly as `JSONParser` reads them. The buffer must stay
/// valid while the cursor is used.
///
/// ```swift
/// var cursor = JSONCursor(bytes)          // {"a":{"b":"x"},"c":[1,2]}
/// try cursor.beginObject()
/// while let key = try cursor.nextKey() {
///     if key.elementsEqual("a".utf8) { ... } else { try cursor.skip() }
/// }
/// ```
public struct JSONCursor {
    private var reader: Reader
    /// Members already read in each open object, innermost last (a `,` precedes all but the first).
    private var started: [Bool] = []

    public init(_ bytes: UnsafeBufferPointer<UInt8>) { reader = Reader(bytes: bytes) }

    /// Where the cursor is, as a byte offset into the buffer.
    public var offset: Int { reader.index }

    /// Enters the object at the cursor.
    public mutating func beginObject() throws(JSONParser.SyntaxError) {
        reader.skipSpace()
        guard reader.index < reader.bytes.count, reader.bytes[reader.index] == UInt8(ascii: "{") else { throw reader.fail("expected an object") }
        reader.index += 1
        started.append(false)
    }

    /// The next member's key (raw bytes between the quotes, escapes not decoded), leaving the cursor
    /// on its value, which must then be read or skipped; nil at the object's end (then left).
    public mutating func nextKey() throws(JSONParser.SyntaxError) -> UnsafeBufferPointer<UInt8>? {
        guard let first = started.last.map({ !$0 }) else { throw reader.fail("not in an object") }
        reader.skipSpace()
        guard reader.index < reader.bytes.count else { throw reader.fail("unterminated object") }
        if reader.bytes[reader.index] == UInt8(ascii: "}") {
            reader.index += 1
            started.removeLast()
            return nil
        }
        if !first {
            guard reader.bytes[reader.index] == UInt8(ascii: ",") else { throw reader.fail("expected ',' or '}'") }
            reader.index += 1
            reader.skipSpace()
        }
        started[started.count - 1] = true
        guard reader.index < reader.bytes.count, reader.bytes[reader.index] == UInt8(ascii: "\"") else { throw reader.fail("expected a string key") }
        let start = reader.index + 1
        try skipString()
        let key = UnsafeBufferPointer(rebasing: reader.bytes[start..<(reader.index - 1)])
        reader.skipSpace()
        guard reader.index < reader.bytes.count, reader.bytes[reader.index] == UInt8(ascii: ":") else { throw reader.fail("expected ':'") }
        reader.index += 1
        return key
    }

    /// The string at the cursor, decoded.
    public mutating func string() throws(JSONParser.SyntaxError) -> String {
        reader.skipSpace()
        guard reader.index < reader.bytes.count, reader.bytes[reader.index] == UInt8(ascii: "\"") else { throw reader.fail("expected a string") }
        do { return try reader.string() } catch { throw Self.syntaxError(error, at: reader.index) }
    }

    /// The string at the cursor as it is written: the bytes between its quotes, escapes kept (valid
    /// JSON string content, to be copied into another document without decoding it).
    public mutating func rawString() throws(JSONParser.SyntaxError) -> UnsafeBufferPointer<UInt8> {
        reader.skipSpace()
        guard reader.index < reader.bytes.count, reader.bytes[reader.index] == UInt8(ascii: "\"") else { throw reader.fail("expected a string") }
        let start = reader.index + 1
        try skipString()
        return UnsafeBufferPointer(rebasing: reader.bytes[start..<(reader.index - 1)])
    }

    /// The number at the cursor, or nil for `null`.
    public mutating func number() throws(JSONParser.SyntaxError) -> Double? {
        reader.skipSpace()
        guard reader.index < reader.bytes.count else { throw reader.fail("unexpected end of input") }
        do {
            if reader.bytes[reader.index] == UInt8(ascii: "n") { try reader.literal("null"); return nil }
            return try reader.number()
        } catch {
            throw Self.syntaxError(error, at: reader.index)
        }
    }

    /// `Reader` throws only `SyntaxError`, untyped.
    private static func syntaxError(_ error: any Error, at offset: Int) -> JSONParser.SyntaxError {
        error as? JSONParser.SyntaxError ?? JSONParser.SyntaxError(offset: offset, reason: "\(error)")
    }

    /// Steps over the value at the cursor (any type, nested to `Reader.maximumDepth`).
    public mutating func skip() throws(JSONParser.SyntaxError) {
        var depth = 0
        repeat {
            reader.skipSpace()
            guard reader.index < reader.bytes.count else { throw reader.fail("unexpected end of input") }
            switch reader.bytes[reader.index] {
            case UInt8(ascii: "\""): try skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                guard depth < Reader.maximumDepth else { throw reader.fail("nesting deeper than \(Reader.maximumDepth)") }
                reader.index += 1
                continue
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard depth > 0 else { throw reader.fail("unexpected close") }
                depth -= 1
                reader.index += 1
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                guard depth > 0 else { throw reader.fail("unexpected separator") }
                reader.index += 1
                continue
            default:
                // A number or literal: up to the next structural character or space.
                let start = reader.index
                while reader.index < reader.bytes.count, !Self.endsScalar(reader.bytes[reader.index]) { reader.index += 1 }
                guard reader.index > start else { throw reader.fail("invalid value") }
            }
        } while depth > 0
    }

    private static func endsScalar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ":"), UInt8(ascii: "\""), 0x20, 0x0A, 0x0D, 0x09: true
        default: false
        }
    }

    /// Steps over a string (cursor on its opening quote) to just after its closing quote.
    private mutating func skipString() throws(JSONParser.SyntaxError) {
        reader.index += 1
        while reader.index < reader.bytes.count {
            switch reader.bytes[reader.index] {
            case UInt8(ascii: "\""):
                reader.index += 1
                return
            case UInt8(ascii: "\\"): reader.index += 2
            default: reader.index += 1
            }
        }
        throw reader.fail("unterminated string")
    }
}
