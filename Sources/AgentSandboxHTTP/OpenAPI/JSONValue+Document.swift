import AgentSandbox
import Foundation

/// Editing helpers for assembling a JSON document (`OpenAPIDocument`).
extension JSONValue {
    /// Sets `value` at the object path `keys`, creating objects on the way.
    mutating func set(_ value: JSONValue, at keys: [String]) {
        guard let first = keys.first else {
            self = value
            return
        }
        var fields = objectValue ?? [:]
        var child = fields[first] ?? .object([:])
        child.set(value, at: Array(keys.dropFirst()))
        fields[first] = child
        self = .object(fields)
    }

    /// Every string (values and object keys) with each placeholder replaced.
    func substituting(_ replacements: [String: String]) -> JSONValue {
        func replace(_ text: String) -> String {
            replacements.reduce(text) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
        }
        switch self {
        case .string(let text): return .string(replace(text))
        case .array(let items): return .array(items.map { $0.substituting(replacements) })
        case .object(let fields):
            return .object(Dictionary(fields.map { (replace($0.key), $0.value.substituting(replacements)) }, uniquingKeysWith: { first, _ in first }))
        default: return self
        }
    }

    /// The local references (`#/components/...`) that point at nothing in this document.
    func unresolvedReferences() -> [String] {
        var missing: [String] = []
        func visit(_ node: JSONValue) {
            switch node {
            case .object(let fields):
                if case .string(let target)? = fields["$ref"], target.hasPrefix("#/"), resolve(pointer: target) == nil {
                    missing.append(target)
                }
                fields.values.forEach(visit)
            case .array(let items): items.forEach(visit)
            default: break
            }
        }
        visit(self)
        return missing.sorted()
    }

    /// The value a JSON pointer (`#/components/schemas/Agent`) names.
    func resolve(pointer: String) -> JSONValue? {
        var node: JSONValue? = self
        for token in pointer.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            node = node?[key]
        }
        return node
    }
}
