extension JSONValueDecoder {
    /// `working_dir` → `workingDir` (the rule of `JSONDecoder.KeyDecodingStrategy.convertFromSnakeCase`).
    public static func camelCase(_ key: String) -> String {
        guard key.utf8.contains(underscore) else { return key }
        return asciiCamelCase(key) ?? generalCamelCase(key)
    }

    /// The rule on `Character`s, for any key (the ASCII fast path must agree with it).
    static func generalCamelCase(_ key: String) -> String {
        let core = key.drop { $0 == "_" }
        let leading = key.prefix(key.count - core.count)
        let trimmed = core.reversed().drop { $0 == "_" }
        let trailingCount = core.count - trimmed.count
        let words = String(core.dropLast(trailingCount)).split(separator: "_", omittingEmptySubsequences: true)
        guard let first = words.first else { return key }
        let joined = words.dropFirst().reduce(String(first)) { $0 + $1.prefix(1).uppercased() + $1.dropFirst().lowercased() }
        return leading + joined + String(repeating: "_", count: trailingCount)
    }

    static let underscore = UInt8(ascii: "_")

    /// The same rule byte by byte for ASCII keys (every schema key): no `Character` or Foundation work.
    private static func asciiCamelCase(_ key: String) -> String? {
        let bytes = Array(key.utf8)
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        guard let start = bytes.firstIndex(where: { $0 != underscore }) else { return key }
        let end = bytes.lastIndex(where: { $0 != underscore })! + 1
        var output = [UInt8](bytes[..<start])
        output.reserveCapacity(bytes.count)
        var inFirstWord = true
        var atWordStart = true
        for byte in bytes[start..<end] {
            if byte == underscore {
                inFirstWord = false
                atWordStart = true
                continue
            }
            if inFirstWord {
                output.append(byte)
            } else if atWordStart {
                output.append(byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte)
            } else {
                output.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
            }
            atWordStart = false
        }
        output += bytes[end...]
        return String(decoding: output, as: UTF8.self)
    }
}
