import NIOCore

/// A direct JSON writer for the envelope: every tool call answers with one, and going through
/// `JSONEncoder` (containers, key conversion, sorting) cost more CPU than reading a small file.
///
/// Writes the same document as `JSONCoding.makeEncoder()`: the nine core keys always present
/// (`null` when unused), extras after them, keys sorted, slashes not escaped, UTF-8 as is.
extension Envelope {
    /// The core fields in sorted (wire) order, each with its `"key":` prefix written once.
    private enum CoreField: CaseIterable {
        case content, error, exitCode, matches, path, status, stderr, stdout, url
    }
    private static let sortedCore: [(key: String, prefix: [UInt8], field: CoreField)] = {
        let fields: [(String, CoreField)] = [
            ("content", .content), ("error", .error), ("exit_code", .exitCode), ("matches", .matches), ("path", .path),
            ("status", .status), ("stderr", .stderr), ("stdout", .stdout), ("url", .url),
        ]
        // Static data, checked by the tests (debug builds); never a reason to stop a serving process.
        assert(fields.map(\.0) == coreKeys.sorted(), "the writer lists every core key in order")
        return fields.map { key, field in (key, Array("\"\(key)\":".utf8), field) }
    }()

    /// The whole document.
    public func jsonBytes() -> [UInt8] {
        Array(jsonPieces().map(\.readableBytesView).joined())
    }

    /// The document as the response body's buffers, in order: one, or three when `encodedMatches` is
    /// set (the text before it, the encoded array itself, not copied, and the text after it).
    public func jsonPieces() -> [ByteBuffer] {
        var pieces: [ByteBuffer] = []
        // Keys in wire order: content … matches, then status, stderr, stdout, url.
        let late = (stdout?.utf8.count ?? 0) + (stderr?.utf8.count ?? 0)
        var writer = JSONByteWriter(capacity: 256 + (content?.utf8.count ?? 0) + (encodedMatches == nil ? late : 0))
        // The extras as sorted (key, value) pairs: one array, no lookups while writing.
        var extraFields = Array(extras)
        extraFields.removeAll { Self.coreKeys.contains($0.key) }
        extraFields.sort { $0.key < $1.key }
        writer.output.writeInteger(UInt8(ascii: "{"))
        var extra = extraFields.startIndex
        for (index, core) in Self.sortedCore.enumerated() {
            while extra < extraFields.endIndex, extraFields[extra].key < core.key {
                writer.string(extraFields[extra].key)
                writer.output.writeInteger(UInt8(ascii: ":"))
                writer.value(extraFields[extra].value)
                writer.output.writeInteger(UInt8(ascii: ","))
                extra += 1
            }
            writer.output.writeBytes(core.prefix)
            if core.field == .matches, let encoded = encodedMatches {
                pieces.append(writer.output)
                pieces.append(encoded.buffer)
                writer = JSONByteWriter(capacity: 256 + late)
            } else {
                write(core.field, into: &writer)
            }
            if index < Self.sortedCore.count - 1 { writer.output.writeInteger(UInt8(ascii: ",")) }
        }
        for (key, value) in extraFields[extra...] {
            writer.output.writeInteger(UInt8(ascii: ","))
            writer.string(key)
            writer.output.writeInteger(UInt8(ascii: ":"))
            writer.value(value)
        }
        writer.output.writeInteger(UInt8(ascii: "}"))
        pieces.append(writer.output)
        return pieces
    }

    private func write(_ field: CoreField, into writer: inout JSONByteWriter) {
        switch field {
        case .status: writer.string(status.rawValue)
        case .stdout: writer.optionalString(stdout)
        case .stderr: writer.optionalString(stderr)
        case .exitCode: writer.value(exitCode.map { .number(Double($0)) } ?? .null)
        case .content: writer.optionalString(content)
        case .path: writer.optionalString(path)
        case .matches: writer.value(matches.map(JSONValue.array) ?? .null)
        case .url: writer.optionalString(url)
        case .error: writer.optionalString(error)
        }
    }
}
