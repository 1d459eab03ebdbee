import HTTPTypes

extension HTTPFields {
    /// `self[name]` without its join: the one value when the field occurs once (the usual case) is
    /// returned as it is; several occurrences are joined as the subscript joins them. The subscript
    /// builds a lazy join (a new string, generic code) on every read, even of a single value.
    public func value(of name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            if found != nil { return self[name] }
            found = field.value
        }
        return found
    }
}
