/// A single-range `Range: bytes=…` request header, resolved against a file size (RFC 9110 §14).
public enum ByteRange: Equatable {
    /// No usable range: serve the whole file (absent, malformed, or several ranges).
    case whole
    /// Serve these bytes (206).
    case partial(ClosedRange<Int64>)
    /// No byte of the range exists (416).
    case unsatisfiable

    public init(header: String?, size: Int64) {
        guard let header, header.hasPrefix("bytes="), !header.contains(",") else { self = .whole; return }
        let spec = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard let dash = spec.firstIndex(of: "-") else { self = .whole; return }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            // Suffix range: the last N bytes.
            guard let count = Int64(last), count >= 0 else { self = .whole; return }
            if count == 0 || size == 0 { self = .unsatisfiable; return }
            self = .partial(max(0, size - count)...(size - 1))
            return
        }
        guard let start = Int64(first), start >= 0 else { self = .whole; return }
        let end: Int64
        if last.isEmpty {
            end = size - 1
        } else {
            guard let value = Int64(last), value >= start else { self = .whole; return }
            end = min(value, size - 1)
        }
        self = start < size ? .partial(start...end) : .unsatisfiable
    }
}
