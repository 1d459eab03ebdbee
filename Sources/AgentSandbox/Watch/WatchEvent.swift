import Foundation
import NIOCore

/// One file event of a watch stream, with paths relative to the workspace root.
///
/// As SSE: `event: <type>` and `data: {"type", "path", "is_dir", "time"}`; `moved` adds `from` and `to`
/// (`path` is `to`); `overflow` says events were lost (the kernel's queue or the client's buffer
/// overflowed) and the client should re-list; `ready` opens the stream once the watches are in place;
/// `error` reports a problem that does not end the stream (a directory past the watch limit).
public struct WatchEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case created, modified, deleted, moved, overflow, ready, error
        /// Not an event: a comment line sent after a quiet spell (keeps proxies from closing the stream).
        case keepAlive = "keep-alive"
    }

    public var kind: Kind
    public var path: String
    public var from: String?
    public var isDirectory: Bool
    /// Extra fields (`message`, `error_code`, `watches`).
    public var extra: [String: JSONValue] = [:]

    public init(_ kind: Kind, path: String, from: String? = nil, isDirectory: Bool = false, extra: [String: JSONValue] = [:]) {
        self.kind = kind
        self.path = path
        self.from = from
        self.isDirectory = isDirectory
        self.extra = extra
    }

    /// The event's JSON (`data:` of its SSE event).
    public func json(time: Date) -> JSONValue {
        var fields: [String: JSONValue] = ["type": .string(kind.rawValue)]
        switch kind {
        case .created, .modified, .deleted, .moved:
            fields["path"] = .string(path)
            fields["is_dir"] = .bool(isDirectory)
            if kind == .moved {
                fields["from"] = .string(from ?? "")
                fields["to"] = .string(path)
            }
        case .overflow, .ready, .error, .keepAlive:
            fields["path"] = .string(path)
        }
        fields["time"] = .string(ISO8601DateFormatter.snapshot.string(from: time))
        fields.merge(extra) { _, new in new }
        return .object(fields)
    }

    /// Appends the SSE frame (`id`, `event`, one `data` line) to `buffer`.
    public func sse(id: UInt64, time: Date = Date(), into buffer: inout ByteBuffer) {
        if kind == .keepAlive {
            buffer.writeString(": keep-alive\n\n")
            return
        }
        buffer.writeString("id: \(id)\nevent: \(kind.rawValue)\ndata: ")
        var writer = JSONByteWriter(capacity: 128)
        writer.value(json(time: time))
        buffer.writeBuffer(&writer.output)
        buffer.writeString("\n\n")
    }
}
