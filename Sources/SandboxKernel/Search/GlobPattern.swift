/// A compiled glob: `*`, `?`, `[...]`, `{a,b}` and `**`, matched path segment by path segment.
///
/// Braces are expanded first (they may contain `/`), so a pattern is a list of alternatives, each a
/// list of segments. `**` as a whole segment matches zero or more directories; `*` and `?` never
/// match `/`; a trailing `**` matches everything inside, at least one segment. A leading dot is an ordinary character (`*` matches dotfiles). Matching is on bytes,
/// case-sensitive, with `?` and classes consuming one UTF-8 scalar.
///
/// ```swift
/// let glob = try GlobPattern("src/**/*.{ts,tsx}")
/// glob.alternatives.count  // 2
/// ```
public struct GlobPattern: Sendable {
    /// One path segment of a pattern.
    public enum Segment: Sendable, Equatable {
        /// `**`: zero or more whole segments.
        case globstar
        /// A segment with no wildcard.
        case literal([UInt8])
        /// `*` alone: any one name.
        case any
        /// `*SUFFIX` (e.g. `*.swift`).
        case suffix([UInt8])
        /// Anything else, matched by `WildcardMatcher`.
        case wildcard(WildcardMatcher)

        /// Whether `name` matches this (non-globstar) segment.
        @inline(__always)
        func matches(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
            switch self {
            case .globstar, .any: return true
            case .literal(let bytes): return name.elementsEqual(bytes)
            case .suffix(let bytes):
                guard name.count >= bytes.count else { return false }
                return UnsafeBufferPointer(rebasing: name[(name.count - bytes.count)...]).elementsEqual(bytes)
            case .wildcard(let matcher): return matcher.matches(name)
            }
        }
    }

    /// Brace expansions of the pattern, each split into segments.
    public let alternatives: [[Segment]]

    /// The largest number of alternatives brace expansion may produce.
    public static let maxAlternatives = 1024

    /// Compiles `pattern`; throws a message naming the problem (unbalanced braces or brackets, too many
    /// alternatives, empty pattern).
    public init(_ pattern: String) throws(GlobSyntaxError) {
        var trimmed = Substring(pattern)
        while trimmed.hasPrefix("./") { trimmed = trimmed.dropFirst(2) }
        if trimmed.hasPrefix("/") { throw GlobSyntaxError("a pattern is relative to root_dir and must not start with '/'") }
        if trimmed.isEmpty { throw GlobSyntaxError("the pattern is empty") }
        var alternatives: [[Segment]] = []
        for expanded in try BraceExpansion.expand(Array(trimmed.utf8), limit: Self.maxAlternatives) {
            var segments: [Segment] = []
            for part in expanded.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
                let segment = try Self.compile(Array(part))
                if segment == .globstar, segments.last == .globstar { continue }
                if part.elementsEqual([UInt8(ascii: ".")]) { continue }
                segments.append(segment)
            }
            // A trailing `**` means everything inside (not the directory itself): `src/**` = `src/**/*`.
            if segments.last == .globstar { segments.append(.any) }
            if !segments.isEmpty { alternatives.append(segments) }
        }
        if alternatives.isEmpty { throw GlobSyntaxError("the pattern names no file") }
        self.alternatives = alternatives
    }

    private static func compile(_ part: [UInt8]) throws(GlobSyntaxError) -> Segment {
        let star = UInt8(ascii: "*")
        if part == [star, star] { return .globstar }
        if part == [star] { return .any }
        let special: Set<UInt8> = [star, UInt8(ascii: "?"), UInt8(ascii: "["), UInt8(ascii: "\\")]
        if !part.contains(where: special.contains) { return .literal(part) }
        if part.first == star, !part.dropFirst().contains(where: special.contains) { return .suffix(Array(part.dropFirst())) }
        return .wildcard(try WildcardMatcher(part))
    }
}

/// Why a glob pattern cannot be compiled.
public struct GlobSyntaxError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Expands `{a,b}` alternatives (nested, with `\` escapes; braces inside `[...]` are literal).
enum BraceExpansion {
    static func expand(_ pattern: [UInt8], limit: Int) throws(GlobSyntaxError) -> [[UInt8]] {
        guard let (open, close, commas) = firstGroup(pattern) else {
            if unescapedBrace(pattern) { throw GlobSyntaxError("unbalanced '{' or '}' in the pattern (escape a literal brace as \\{)") }
            return [pattern]
        }
        let prefix = pattern[..<open], suffix = pattern[(close + 1)...]
        let bounds = [open] + commas + [close]
        var results: [[UInt8]] = []
        for index in 0..<(bounds.count - 1) {
            let option = pattern[(bounds[index] + 1)..<bounds[index + 1]]
            for expanded in try expand(Array(prefix + option + suffix), limit: limit) {
                results.append(expanded)
                if results.count > limit { throw GlobSyntaxError("braces expand to more than \(limit) alternatives") }
            }
        }
        return results
    }

    /// The first top-level `{...}` group: its brace positions and top-level commas.
    private static func firstGroup(_ pattern: [UInt8]) -> (Int, Int, [Int])? {
        var index = 0, depth = 0, open = -1, inClass = false
        var commas: [Int] = []
        while index < pattern.count {
            let byte = pattern[index]
            if byte == UInt8(ascii: "\\") { index += 2; continue }
            if inClass {
                if byte == UInt8(ascii: "]") { inClass = false }
            } else if byte == UInt8(ascii: "[") {
                inClass = true
            } else if byte == UInt8(ascii: "{") {
                if depth == 0 { open = index; commas = [] }
                depth += 1
            } else if byte == UInt8(ascii: "}"), depth > 0 {
                depth -= 1
                if depth == 0 { return (open, index, commas) }
            } else if byte == UInt8(ascii: ","), depth == 1 {
                commas.append(index)
            }
            index += 1
        }
        return nil
    }

    private static func unescapedBrace(_ pattern: [UInt8]) -> Bool {
        var index = 0
        while index < pattern.count {
            if pattern[index] == UInt8(ascii: "\\") { index += 2; continue }
            if pattern[index] == UInt8(ascii: "{") || pattern[index] == UInt8(ascii: "}") { return true }
            index += 1
        }
        return false
    }
}
