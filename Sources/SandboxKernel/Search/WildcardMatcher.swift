/// Matches one path segment against `*`, `?`, `[...]` and literal bytes (with `\` escapes).
///
/// Compiled once into tokens; matching is the classic linear-backtracking wildcard algorithm over
/// bytes (no allocation). `?` and classes consume one UTF-8 scalar, so `?` matches `é`.
public struct WildcardMatcher: Sendable, Equatable {
    enum Token: Sendable, Equatable {
        case byte(UInt8)
        case one
        case star
        /// Inclusive scalar ranges; `negated` for `[!...]` / `[^...]`.
        case set([ClosedRange<UInt32>], negated: Bool)
    }

    let tokens: [Token]

    init(_ pattern: [UInt8]) throws(GlobSyntaxError) {
        var tokens: [Token] = []
        var index = 0
        while index < pattern.count {
            let byte = pattern[index]
            switch byte {
            case UInt8(ascii: "*"):
                if tokens.last != .star { tokens.append(.star) }
                index += 1
            case UInt8(ascii: "?"):
                tokens.append(.one)
                index += 1
            case UInt8(ascii: "\\"):
                guard index + 1 < pattern.count else { throw GlobSyntaxError("the pattern ends with a lone '\\'") }
                tokens.append(.byte(pattern[index + 1]))
                index += 2
            case UInt8(ascii: "["):
                let (token, next) = try Self.parseClass(pattern, from: index + 1)
                tokens.append(token)
                index = next
            default:
                tokens.append(.byte(byte))
                index += 1
            }
        }
        self.tokens = tokens
    }

    /// Parses a class body starting after `[`; returns the token and the index after `]`.
    private static func parseClass(_ pattern: [UInt8], from start: Int) throws(GlobSyntaxError) -> (Token, Int) {
        var index = start
        var negated = false
        if index < pattern.count, pattern[index] == UInt8(ascii: "!") || pattern[index] == UInt8(ascii: "^") {
            negated = true
            index += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        var first = true
        while index < pattern.count {
            if pattern[index] == UInt8(ascii: "]"), !first { return (.set(ranges, negated: negated), index + 1) }
            first = false
            if pattern[index] == UInt8(ascii: "\\"), index + 1 < pattern.count { index += 1 }
            let (low, width) = decodeScalar(pattern, at: index)
            index += width
            if index + 1 < pattern.count, pattern[index] == UInt8(ascii: "-"), pattern[index + 1] != UInt8(ascii: "]") {
                let (high, highWidth) = decodeScalar(pattern, at: index + 1)
                index += 1 + highWidth
                if low <= high { ranges.append(low...high) }
            } else {
                ranges.append(low...low)
            }
        }
        throw GlobSyntaxError("unclosed '[' in the pattern (escape a literal bracket as \\[)")
    }

    /// Whether `name` matches the whole token list.
    func matches(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        var t = 0, n = 0
        var starToken = -1, starName = 0
        while n < name.count {
            if t < tokens.count {
                switch tokens[t] {
                case .star:
                    starToken = t
                    starName = n
                    t += 1
                    continue
                case .byte(let byte) where name[n] == byte:
                    t += 1
                    n += 1
                    continue
                case .one:
                    t += 1
                    n = min(n + Self.scalarWidth(name[n]), name.count)
                    continue
                case .set(let ranges, let negated):
                    let (scalar, width) = Self.decodeScalar(name, at: n)
                    if ranges.contains(where: { $0.contains(scalar) }) != negated {
                        t += 1
                        n += width
                        continue
                    }
                default:
                    break
                }
            }
            guard starToken >= 0 else { return false }
            starName = min(starName + Self.scalarWidth(name[starName]), name.count)
            n = starName
            t = starToken + 1
        }
        while t < tokens.count, tokens[t] == .star { t += 1 }
        return t == tokens.count && n == name.count
    }

    /// Byte length of the UTF-8 sequence a lead byte starts (1 for invalid bytes).
    @inline(__always)
    static func scalarWidth(_ lead: UInt8) -> Int {
        switch lead {
        case 0xF0...0xF7: 4
        case 0xE0...0xEF: 3
        case 0xC0...0xDF: 2
        default: 1
        }
    }

    /// The scalar value at `index` (lead byte value for invalid sequences) and its width.
    static func decodeScalar<C: RandomAccessCollection<UInt8>>(_ bytes: C, at index: C.Index) -> (UInt32, Int) where C.Index == Int {
        let lead = bytes[index]
        let width = scalarWidth(lead)
        guard width > 1, index + width <= bytes.endIndex else { return (UInt32(lead), 1) }
        var value = UInt32(lead) & (0xFF >> (width + 1))
        for offset in 1..<width {
            let next = bytes[index + offset]
            guard next & 0xC0 == 0x80 else { return (UInt32(lead), 1) }
            value = value << 6 | UInt32(next & 0x3F)
        }
        return (value, width)
    }
}
