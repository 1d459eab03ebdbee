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
    /// hot path). The array is the server's own writing, so it always parses; if it did not, that is
    /// a bug, caught in debug builds (the tests), and an empty list in release.
    public func values() -> [JSONValue] {
        guard let values = (try? JSONParser.parse(buffer.readableBytesView))?.arrayValue else {
            assertionFailure("an EncodedJSONArray does not parse")
            return []
        }
        return values
    }
}

/// Writes a JSON array element by element, straight to bytes.
///
/// Each element is written in one go into space reserved for it, with a `JSONElementWriter`; the
/// caller writes the element's syntax itself, keys in sorted order like every response of the server:
///
/// ```swift
/// var array = JSONArrayWriter()
/// let name = JSONArrayWriter.escaped("a.txt")
/// name.withUnsafeBufferPointer { name in
///     array.element(maximumBytes: 64 + name.count) { out in
///         out.syntax(#"{"file":""#); out.escaped(name); out.syntax(#"","line":"#); out.integer(3); out.syntax("}")
///     }
/// }
/// let encoded = array.finish()   // [{"file":"a.txt","line":3}]
/// ```
public struct JSONArrayWriter {
    private var output: ByteBuffer
    /// Elements written so far.
    public private(set) var count = 0

    public init(capacity: Int = 4096) {
        output = ByteBufferAllocator().buffer(capacity: capacity + 2)
        output.writeInteger(UInt8(ascii: "["))
    }

    /// Appends one element: `body` writes its JSON into `maximumBytes` of reserved space. For elements
    /// written by the thousand, where a buffer call per piece would cost more than the copying.
    ///
    /// An estimate that was too small (a byte miscount) never writes past the space nor stops the
    /// server: the writer only measures what does not fit, and `body` runs again with the space it needs.
    public mutating func element(maximumBytes: Int, _ body: (inout JSONElementWriter) -> Void) {
        if count > 0 { output.writeInteger(UInt8(ascii: ",")) }
        count += 1
        var needed = 0
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: max(maximumBytes, 1)) { space in
            var element = JSONElementWriter(base: space.baseAddress!, capacity: maximumBytes)
            body(&element)
            guard element.count <= maximumBytes else {
                needed = element.count
                return 0
            }
            return element.count
        }
        guard needed > 0 else { return }
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: needed) { space in
            var element = JSONElementWriter(base: space.baseAddress!, capacity: needed)
            body(&element)
            return min(element.count, needed)
        }
    }

    /// The finished array.
    public consuming func finish() -> EncodedJSONArray {
        output.writeInteger(UInt8(ascii: "]"))
        return EncodedJSONArray(buffer: output, count: count)
    }

    /// `text` escaped as JSON string content (without the quotes), for `JSONElementWriter.escaped`.
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

/// Writes one element of a `JSONArrayWriter` at a raw pointer, within the space reserved for it.
public struct JSONElementWriter {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let capacity: Int
    @usableFromInline var written = 0
    /// Bytes written so far (or that would have been, past the reserved space).
    public var count: Int { written }

    @usableFromInline init(base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    /// Literal JSON syntax, such as `{"line":` or `,`.
    @inlinable public mutating func syntax(_ text: StaticString) {
        put(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// String content already written as JSON (escaped, without the quotes): it must pass
    /// `JSONArrayWriter.isStringContent`, or come from `JSONArrayWriter.escaped`.
    @inlinable public mutating func escaped(_ content: UnsafeBufferPointer<UInt8>) {
        put(UnsafeRawBufferPointer(content))
    }

    /// An integer in decimal.
    @inlinable public mutating func integer(_ value: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: enough for any Int64
        withUnsafeMutableBytes(of: &digits) { buffer in
            var magnitude = value.magnitude
            var start = buffer.count
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                start -= 1
                buffer[start] = UInt8(ascii: "-")
            }
            put(UnsafeRawBufferPointer(rebasing: buffer[start...]))
        }
    }

    /// Copies `bytes` when they fit in the reserved space; past it, only counts them (the array
    /// writer then runs the element again with the space it needs).
    @inlinable mutating func put(_ bytes: UnsafeRawBufferPointer) {
        if written + bytes.count <= capacity, let start = bytes.baseAddress {
            (base + written).copyMemory(from: start, byteCount: bytes.count)
        }
        written += bytes.count
    }
}
