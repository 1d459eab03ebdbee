#if canImport(Glibc)
import Glibc
#endif

/// The path rules of an import, as pure functions over raw path bytes.
///
/// An entry path is relative to the workspace root; `.` and empty components are dropped. An
/// absolute path or a `..` component makes the whole archive unsafe (refused). A symlink is kept
/// only when its target provably stays inside the workspace; see `symlinkStaysInside`.
enum ArchivePath {
    private static let slash = UInt8(ascii: "/")
    private static let dot: [UInt8] = [UInt8(ascii: ".")]
    private static let dotDot: [UInt8] = [UInt8(ascii: "."), UInt8(ascii: ".")]

    /// The components of an entry path; throws `.unsafe` for absolute paths and `..`.
    static func components(_ raw: [UInt8]) throws(ArchiveError) -> [[UInt8]] {
        if raw.first == slash { throw .unsafe(path: display(raw), reason: "is an absolute path") }
        var result: [[UInt8]] = []
        for component in raw.split(separator: slash, omittingEmptySubsequences: true) {
            if component.elementsEqual(dot) { continue }
            if component.elementsEqual(dotDot) { throw .unsafe(path: display(raw), reason: "contains '..'") }
            result.append(Array(component))
        }
        return result
    }

    /// Why a normalised path cannot be created here (too long), or nil.
    static func lengthProblem(_ components: [[UInt8]]) -> String? {
        if components.contains(where: { $0.count > Int(NAME_MAX) }) { return "has a name longer than \(NAME_MAX) bytes" }
        if joined(components).count >= Int(PATH_MAX) { return "is longer than \(PATH_MAX - 1) bytes" }
        return nil
    }

    /// Whether a symlink in the directory `linkDirectory` (components below the root) with `target`
    /// resolves inside the workspace, whatever other symlinks the tree holds.
    ///
    /// Accepted: a relative target made of some `..` steps (no more than the link's depth) followed by
    /// plain names (`../lib/libz.so`, `python3`). Refused: absolute targets, and `..` after a name
    /// (`a/../..`): a name may itself be a symlink, so only a target that climbs first through the
    /// link's own real parent directories and then only descends can be proved to stay inside.
    /// By induction every symlink in the tree then resolves inside, and so does every path through them.
    static func symlinkStaysInside(target: [UInt8], linkDirectory: [[UInt8]]) -> Bool {
        guard !target.isEmpty, target.first != slash, target.count < Int(PATH_MAX) else { return false }
        var climbs = 0
        var descended = false
        for component in target.split(separator: slash, omittingEmptySubsequences: true) {
            if component.elementsEqual(dot) { continue }
            if component.elementsEqual(dotDot) {
                if descended { return false }
                climbs += 1
            } else {
                descended = true
            }
        }
        return climbs <= linkDirectory.count
    }

    /// The components joined with `/`.
    static func joined(_ components: [[UInt8]]) -> [UInt8] {
        Array(components.joined(separator: [slash]))
    }

    /// A path for messages and reports (invalid UTF-8 replaced).
    static func display(_ raw: [UInt8]) -> String {
        let text = String(decoding: raw, as: UTF8.self)
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}
