import NIOCore

/// Appends JSON text to a byte buffer.
struct JSONByteWriter {
    var output: ByteBuffer

    init(capacity: Int = 256) {
        output = ByteBufferAllocator().buffer(capacity: capacity)
    }

    mutating func object(_ fields: [(String, JSONValue)]) {
        output.writeInteger(UInt8(ascii: "{"))
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { output.writeInteger(UInt8(ascii: ",")) }
            string(key)
            output.writeInteger(UInt8(ascii: ":"))
            self.value(value)
        }
        output.writeInteger(UInt8(ascii: "}"))
    }

    mutating func value(_ value: JSONValue) {
        switch value {
        case .null: output.writeStaticString("null")
        case .bool(let flag): output.writeStaticString(flag ? "true" : "false")
        case .number(let number): self.number(number)
        case .string(let text): string(text)
        case .array(let items):
            output.writeInteger(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { output.writeInteger(UInt8(ascii: ",")) }
                self.value(item)
            }
            output.writeInteger(UInt8(ascii: "]"))
        case .object(let fields):
            object(fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
    }

    mutating func optionalString(_ text: String?) {
        if let text { string(text) } else { output.writeStaticString("null") }
    }

    private mutating func number(_ number: Double) {
        if number.rounded() == number, abs(number) < 1e15 {
            output.writeString(String(Int64(number)))
        } else if number.isFinite {
            output.writeString(String(number))
        } else {
            output.writeStaticString("null")
        }
    }

    /// What follows the backslash for each byte that needs escaping (0: none; `u`: `\u00XX`).
    private static let escapes: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for byte in 0..<0x20 { table[byte] = UInt8(ascii: "u") }
        table[0x22] = UInt8(ascii: "\"")
        table[0x5C] = UInt8(ascii: "\\")
        table[0x0A] = UInt8(ascii: "n")
        table[0x0D] = UInt8(ascii: "r")
        table[0x09] = UInt8(ascii: "t")
        table[0x08] = UInt8(ascii: "b")
        table[0x0C] = UInt8(ascii: "f")
        return table
    }()

    /// A JSON string: `"` and `\` escaped, control characters as `\n`, `\t`, … or `\u00XX`.
    /// Measures the escaped length first, then writes it in one reservation; both passes skip eight
    /// plain bytes at a time (file content is mostly long runs without anything to escape).
    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            Self.escapes.withUnsafeBufferPointer { escapes in
                var length = bytes.count + 2
                var index = 0
                while index < bytes.count {
                    index = Self.plainRun(bytes, from: index)
                    guard index < bytes.count else { break }
                    let escape = escapes[Int(bytes[index])]
                    if escape != 0 { length += escape == UInt8(ascii: "u") ? 5 : 1 }
                    index += 1
                }
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
                    Self.write(bytes, escapes: escapes, into: target.baseAddress!.assumingMemoryBound(to: UInt8.self), quotedLength: length)
                }
            }
        }
    }

    /// The index of the first byte at or after `start` that may need escaping (`bytes.count` if none),
    /// testing eight bytes per step: any byte < 0x20, or equal to `"` or `\`; with `stopAtNonASCII`,
    /// also any byte >= 0x80.
    @inline(__always)
    static func plainRun(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, stopAtNonASCII: Bool = false) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var index = start
        guard let base = UnsafeRawPointer(bytes.baseAddress) else { return index }
        while index + 8 <= bytes.count {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let control = (word &- ones &* 0x20) & ~word
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            let hits = (control | ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | (stopAtNonASCII ? word : 0)) & highs
            if hits != 0 { return index + hits.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x20 || byte == 0x22 || byte == 0x5C || (stopAtNonASCII && byte >= 0x80) { return index }
            index += 1
        }
        return index
    }

    private static func write(_ bytes: UnsafeBufferPointer<UInt8>, escapes: UnsafeBufferPointer<UInt8>, into target: UnsafeMutablePointer<UInt8>, quotedLength: Int) -> Int {
        let hex: StaticString = "0123456789abcdef"
        target[0] = UInt8(ascii: "\"")
        var at = 1
        var index = 0
        while index < bytes.count {
            let end = plainRun(bytes, from: index)
            if end > index {
                (target + at).update(from: bytes.baseAddress! + index, count: end - index)
                at += end - index
            }
            guard end < bytes.count else { break }
            let byte = bytes[end]
            let escape = escapes[Int(byte)]
            target[at] = UInt8(ascii: "\\")
            target[at + 1] = escape
            at += 2
            if escape == UInt8(ascii: "u") {
                target[at] = UInt8(ascii: "0")
                target[at + 1] = UInt8(ascii: "0")
                target[at + 2] = hex.utf8Start[Int(byte >> 4)]
                target[at + 3] = hex.utf8Start[Int(byte & 0xF)]
                at += 4
            }
            index = end + 1
        }
        target[at] = UInt8(ascii: "\"")
        assert(at + 1 == quotedLength)
        return quotedLength
    }
}
