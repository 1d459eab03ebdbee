import Testing
@testable import Tools

/// `UTF8Validity`, file_read's streamed encoding check (validated in place, chunk by chunk), agrees with
/// the standard library's validation of the whole file wherever the reads split it.
struct UTF8ValidityTests {
    static let samples: [[UInt8]] = [
        Array("plain ascii\n".utf8),
        Array("héllo wörld — 𝄞 ok\n".utf8),
        Array("# ".utf8) + [0xCF, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2, 0x0A],  // cp1251
        Array("cut ".utf8) + [0xE2, 0x82],  // a final sequence cut short
        [0xF0, 0x9D, 0x84, 0x9E],  // one 4-byte scalar, nothing else
        Array("a".utf8) + [0xC0, 0xAF],  // overlong encoding of "/"
        Array("é".utf8) + [0x80] + Array("é".utf8),  // a stray continuation byte
    ]

    @Test func agreesWithWholeFileValidationWhereverTheReadsSplitIt() {
        for sample in Self.samples {
            let expected: TextEncoding = String(validating: sample, as: UTF8.self) == nil ? .latin1 : .utf8
            for first in 0...sample.count {
                for second in first...sample.count {
                    var validity = UTF8Validity()
                    sample.withUnsafeBytes { raw in
                        validity.consume(UnsafeRawBufferPointer(rebasing: raw[..<first]))
                        validity.consume(UnsafeRawBufferPointer(rebasing: raw[first..<second]))
                        validity.consume(UnsafeRawBufferPointer(rebasing: raw[second...]))
                    }
                    #expect(validity.finish() == expected, "\(sample) read as [..<\(first)], [\(first)..<\(second)], [\(second)...]")
                }
            }
        }
    }
}
