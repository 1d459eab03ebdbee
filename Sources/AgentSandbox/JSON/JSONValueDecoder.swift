/// Decodes a `Decodable` straight from a validated `JSONValue` (snake_case keys → camelCase properties),
/// so a tool input is not encoded to JSON text and parsed a second time.
public struct JSONValueDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try T(from: ValueDecoder(value: value, codingPath: []))
    }
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: Any.Type) -> DecodingError {
        .typeMismatch(expected, .init(codingPath: codingPath, debugDescription: "Expected \(expected), found \(value.typeName)."))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let fields) = value else { throw mismatch([String: Any].self) }
        return KeyedDecodingContainer(KeyedContainer<Key>(fields: fields, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch([Any].self) }
        return UnkeyedContainer(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleContainer(decoder: self) }
}

private struct SingleContainer: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value == .null }
    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let value) = decoder.value else { throw decoder.mismatch(type) }
        return value
    }
    func decode(_ type: String.Type) throws -> String {
        guard case .string(let value) = decoder.value else { throw decoder.mismatch(type) }
        return value
    }
    func decode(_ type: Double.Type) throws -> Double {
        guard case .number(let value) = decoder.value else { throw decoder.mismatch(type) }
        return value
    }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode<T: BinaryInteger & Decodable>(integer type: T.Type) throws -> T {
        guard case .number(let value) = decoder.value, value.rounded() == value, let exact = T(exactly: value) else { throw decoder.mismatch(type) }
        return exact
    }
    func decode(_ type: Int.Type) throws -> Int { try decode(integer: type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decode(integer: type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decode(integer: type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decode(integer: type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decode(integer: type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decode(integer: type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decode(integer: type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decode(integer: type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decode(integer: type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decode(integer: type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: decoder) }
}

/// Looks a property up by its camelCase name among the snake_case keys; a dictionary (`[String: T]`)
/// iterates `allKeys` and so gets its keys exactly as sent (`MY_VAR` stays `MY_VAR`).
private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let fields: [String: JSONValue]
    let converted: [String: JSONValue]
    let codingPath: [any CodingKey]

    init(fields: [String: JSONValue], codingPath: [any CodingKey]) {
        self.fields = fields
        self.codingPath = codingPath
        var converted: [String: JSONValue] = [:]
        for (key, field) in fields where key.utf8.contains(JSONValueDecoder.underscore) { converted[JSONValueDecoder.camelCase(key)] = field }
        self.converted = converted
    }

    var allKeys: [Key] { fields.keys.compactMap { Key(stringValue: $0) } }

    private func lookup(_ key: Key) -> JSONValue? { fields[key.stringValue] ?? converted[key.stringValue] }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }

    private func child(_ key: Key) throws -> ValueDecoder {
        guard let value = lookup(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "Missing `\(key.stringValue)`."))
        }
        return ValueDecoder(value: value, codingPath: codingPath + [key])
    }

    func decodeNil(forKey key: Key) throws -> Bool { (lookup(key) ?? .null) == .null }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try SingleContainer(decoder: try child(key)).decodeAny(type)
    }

    // Primitive fields straight from the value, optional ones in one lookup (the protocol's defaults look
    // a key up three times); the coding path is built only for an error.
    private func value(_ key: Key) throws -> JSONValue {
        guard let value = lookup(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "Missing `\(key.stringValue)`."))
        }
        return value
    }
    private func present(_ key: Key) -> JSONValue? {
        guard let value = lookup(key) else { return nil }
        if case .null = value { return nil }
        return value
    }
    private func mismatch(_ type: Any.Type, _ value: JSONValue, _ key: Key) -> DecodingError {
        ValueDecoder(value: value, codingPath: codingPath + [key]).mismatch(type)
    }
    private func string(_ value: JSONValue, _ key: Key) throws -> String {
        guard case .string(let text) = value else { throw mismatch(String.self, value, key) }
        return text
    }
    private func bool(_ value: JSONValue, _ key: Key) throws -> Bool {
        guard case .bool(let flag) = value else { throw mismatch(Bool.self, value, key) }
        return flag
    }
    private func int(_ value: JSONValue, _ key: Key) throws -> Int {
        guard case .number(let number) = value, number.rounded() == number, let exact = Int(exactly: number) else { throw mismatch(Int.self, value, key) }
        return exact
    }
    private func double(_ value: JSONValue, _ key: Key) throws -> Double {
        guard case .number(let number) = value else { throw mismatch(Double.self, value, key) }
        return number
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = present(key) else { return nil }
        return try SingleContainer(decoder: ValueDecoder(value: value, codingPath: codingPath + [key])).decodeAny(type)
    }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try present(key).map { try string($0, key) } }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try present(key).map { try bool($0, key) } }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try present(key).map { try int($0, key) } }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try present(key).map { try double($0, key) } }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try string(try value(key), key) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try bool(try value(key), key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try int(try value(key), key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try double(try value(key), key) }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
    func superDecoder() throws -> any Decoder { ValueDecoder(value: .object(fields), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private struct Index: CodingKey {
        let intValue: Int?
        var stringValue: String { "\(intValue ?? 0)" }
        init(_ index: Int) { intValue = index }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { self.intValue = intValue }
    }

    private mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else { throw DecodingError.valueNotFound(JSONValue.self, .init(codingPath: codingPath, debugDescription: "No more items.")) }
        defer { currentIndex += 1 }
        return ValueDecoder(value: items[currentIndex], codingPath: codingPath + [Index(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try SingleContainer(decoder: try next()).decodeAny(type) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}

extension SingleContainer {
    /// Primitive types straight from the value; everything else through its own `init(from:)`.
    func decodeAny<T: Decodable>(_ type: T.Type) throws -> T {
        switch type {
        case is String.Type: return try decode(String.self) as! T
        case is Bool.Type: return try decode(Bool.self) as! T
        case is Int.Type: return try decode(Int.self) as! T
        case is Double.Type: return try decode(Double.self) as! T
        case is Int64.Type: return try decode(Int64.self) as! T
        default: return try T(from: decoder)
        }
    }
}
