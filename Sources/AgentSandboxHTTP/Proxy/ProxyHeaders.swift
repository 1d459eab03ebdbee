import Foundation
import HTTPTypes
import NIOHTTP1

/// The header rules of a forwarding intermediary (RFC 9110 §7.6.1): hop-by-hop fields — `Connection`,
/// the fields it names, `Keep-Alive`, `Proxy-*`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade` — are
/// not forwarded in either direction (each connection frames its own messages); `X-Forwarded-For`,
/// `-Host`, `-Proto` and `-Prefix` tell the upstream what the client asked for.
enum ProxyHeaders {
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade",
    ]

    /// `fields` without the hop-by-hop ones (and those the `Connection` field names).
    static func endToEnd(_ fields: HTTPFields) -> HTTPFields {
        let named = namedBy(fields[values: .connection])
        var kept = HTTPFields()
        kept.reserveCapacity(fields.count)
        for field in fields where !hopByHop.contains(field.name.canonicalName) && !named.contains(field.name.canonicalName) { kept.append(field) }
        return kept
    }

    /// The field names listed in `Connection` values (lower-cased); usually none, and then no set is made.
    private static func namedBy(_ connection: [String]) -> Set<String> {
        guard !connection.isEmpty else { return [] }
        return Set(connection.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
    }

    /// The head sent upstream for the client's `request`.
    static func upstreamHead(_ request: HTTPRequest, target: ProxyTarget) -> HTTPRequestHead {
        upstreamHead(
            request, pathAndQuery: target.pathAndQuery, host: target.host, prefix: target.prefix, removedFields: target.removedFields,
            clientAddress: target.clientAddress)
    }

    /// The head sent upstream for the client's `request`, with `ProxyTarget`'s settings spelled out (the
    /// gateway's fast path has no connector to name).
    static func upstreamHead(
        _ request: HTTPRequest, pathAndQuery: String, host: String? = nil, prefix: String? = nil, removedFields: [HTTPField.Name] = [],
        clientAddress: String? = nil
    ) -> HTTPRequestHead {
        var fields = endToEnd(request.headerFields)
        for name in removedFields { fields[name] = nil }
        fields[.expect] = nil  // this server already answered `100 Continue` (see `RequestGuard`)
        let clientHost = request.authority
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host ?? clientHost ?? "localhost")
        for field in fields where field.name.canonicalName != "host" { headers.add(name: field.name.rawName, value: field.value) }
        if let address = clientAddress {
            let previous = headers["x-forwarded-for"].joined(separator: ", ")
            headers.replaceOrAdd(name: "X-Forwarded-For", value: previous.isEmpty ? address : "\(previous), \(address)")
        }
        if let clientHost, !headers.contains(name: "x-forwarded-host") { headers.add(name: "X-Forwarded-Host", value: clientHost) }
        if !headers.contains(name: "x-forwarded-proto") { headers.add(name: "X-Forwarded-Proto", value: request.scheme ?? "http") }
        if let prefix { headers.replaceOrAdd(name: "X-Forwarded-Prefix", value: prefix) }
        return HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method.rawValue), uri: pathAndQuery.isEmpty ? "/" : pathAndQuery, headers: headers)
    }

    /// The upstream's response fields as they go to the client.
    static func downstreamFields(_ headers: HTTPHeaders) -> HTTPFields {
        let named = namedBy(headers["connection"])
        var fields = HTTPFields()
        fields.reserveCapacity(headers.count)
        for (name, value) in headers {
            guard let name = HTTPField.Name(name), !hopByHop.contains(name.canonicalName), !named.contains(name.canonicalName) else { continue }
            fields.append(HTTPField(name: name, value: value))
        }
        return fields
    }
}
