import NIOCore

/// A JSON array the server has already written as UTF-8 (with `JSONArrayWriter`).
///
/// A large result, such as thousands of grep matches, is written once and copied into the response
/// as bytes, instead of being built as `JSONValue`s (a dictionary per element) and encoded again.
public struct EncodedJSONArray: Sendable, Equatable {
    /// The document, `[` to `]`.
    let buffer: ByteBuffer
    /// How many elements it holds.
    public let count: Int

    /// The elements read back as values: for the routes and encoders that need `JSONValue`s (not a
    /// hot path).
    public func values() -> [JSONValue] {
        (try? JSONParser.parse(buffer.readableBytesView))?.arrayValue ?? []
    }
}

/// Writes a JSON array element by element, straight to bytes.
///
/// The caller writes each element's syntax itself, keys in sorted order like every response of the
/// server:
///
/// ```swift
/// var array = JSONArrayWriter()
/// array.nextElement()
/// array.syntax(#"{"file":"#); array.string("a.txt"); array.syntax(#","line":"#); array.integer(3); array.syntax("}")
/// let encoded = array.finish()   // [{"file":"a.txt","line":3}]
/// ```
public struct JSONArrayWriter {
    private var writer: JSONByteWriter
    /// Elements started so far.
    public private(set) var count = 0

    public init(capacity: Int = 4096) {
        writer = JSONByteWriter(capacity: capacity + 2)
        writer.output.writeInteger(UInt8(ascii: "["))
    }

    /// Starts the next element (writes the separator before all but the first).
    public mutating func nextElement() {
        if count > 0 { writer.output.writeInteger(UInt8(ascii: ",")) }
        count += 1
    }

    /// Literal JSON syntax, such as `{"line":` or `,`.
    public mutating func syntax(_ text: StaticString) {
        writer.output.writeStaticString(text)
    }

    /// A string value, escaped.
    public mutating func string(_ text: String) {
        writer.string(text)
    }

    /// A string value from its content as already written in JSON: escaped, without the quotes.
    /// The bytes must pass `isStringContent` (the caller checks once, when it keeps them).
    public mutating func escapedString(_ content: UnsafeBufferPointer<UInt8>) {
        writer.output.writeInteger(UInt8(ascii: "\""))
        writer.output.writeBytes(UnsafeRawBufferPointer(content))
        writer.output.writeInteger(UInt8(ascii: "\""))
    }

    /// Writes one whole element straight into the buffer: `body` gets at least `maximumBytes` of space,
    /// writes the element's JSON there and returns how many bytes it wrote. For elements written by the
    /// thousand, where a call per piece would cost more than the copying.
    public mutating func element(maximumBytes: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
        nextElement()
        writer.output.writeWithUnsafeMutableBytes(minimumWritableBytes: maximumBytes) { space in
            let written = body(space)
            precondition(written <= space.count, "an element wrote past its space")
            return written
        }
    }

    /// An integer value.
    public mutating func integer(_ value: Int) {
        writer.output.writeString(String(value))
    }

    /// The finished array.
    public consuming func finish() -> EncodedJSONArray {
        writer.output.writeInteger(UInt8(ascii: "]"))
        return EncodedJSONArray(buffer: writer.output, count: count)
    }

    /// `text` escaped as JSON string content (without the quotes), for `escapedString` or `element`.
    public static func escaped(_ text: String) -> [UInt8] {
        var writer = JSONByteWriter(capacity: text.utf8.count + 2)
        writer.string(text)
        return Array(writer.output.readableBytesView.dropFirst().dropLast())
    }

    /// Whether `bytes` can stand between a JSON string's quotes as they are: valid UTF-8, no control
    /// characters, no bare `"`, and only the escapes JSON defines. Output read from another program
    /// (`rg --json`) is checked with this before it is copied into a response.
    public static func isStringContent(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        var ascii = true
        while index < bytes.count {
            index = JSONByteWriter.plainRun(bytes, from: index, stopAtNonASCII: true)
            guard index < bytes.count else { break }
            let byte = bytes[index]
            if byte >= 0x80 {
                ascii = false
                index += 1
                continue
            }
            guard byte == UInt8(ascii: "\\"), index + 1 < bytes.count else { return false }
            switch bytes[index + 1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                index += 2
            case UInt8(ascii: "u"):
                guard index + 6 <= bytes.count, bytes[(index + 2)..<(index + 6)].allSatisfy(\.isHexDigit) else { return false }
                index += 6
            default:
                return false
            }
        }
        return ascii || String(validating: bytes, as: UTF8.self) != nil
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}
