import HTTPTypes
import NIOHTTP1

/// The header rules of a forwarding intermediary (RFC 9110 §7.6.1): hop-by-hop fields — `Connection`,
/// the fields it names, `Keep-Alive`, `Proxy-*`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade` — are
/// not forwarded in either direction (each connection frames its own messages); `X-Forwarded-For`,
/// `-Host`, `-Proto` and `-Prefix` tell the upstream what the client asked for.
///
/// The rules work on NIO's `HTTPHeaders`, the form both connections' codecs read and write: the
/// gateway's fast path relays heads in that form without converting them (`FastPathHandler`), and the
/// routes' proxy (`ReverseProxy`) converts its `HTTPRequest` once, here.
enum ProxyHeaders {
    static let hopByHop = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade",
    ]

    /// Removes the hop-by-hop fields (and those the `Connection` field names, but `Host`) from
    /// `headers`; a head that has none (the usual case) is only read.
    static func removeHopByHop(from headers: inout HTTPHeaders) {
        for named in headers[canonicalForm: "connection"] where named.lowercased() != "host" { headers.remove(name: String(named)) }
        for name in hopByHop where headers.contains(name: name) { headers.remove(name: name) }
    }

    /// The head sent upstream for the client's `request`.
    static func upstreamHead(_ request: HTTPRequest, target: ProxyTarget) -> HTTPRequestHead {
        upstreamHead(
            request, pathAndQuery: target.pathAndQuery, host: target.host, prefix: target.prefix, removedFields: target.removedFields,
            clientAddress: target.clientAddress)
    }

    /// The head sent upstream for the client's `request`, with `ProxyTarget`'s settings spelled out.
    static func upstreamHead(
        _ request: HTTPRequest, pathAndQuery: String, host: String? = nil, prefix: String? = nil, removedFields: [HTTPField.Name] = [],
        clientAddress: String? = nil
    ) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(request.headerFields.count + 4)
        headers.add(name: "Host", value: host ?? request.authority ?? "localhost")
        for field in request.headerFields where field.name.canonicalName != "host" && field.name != .expect && !removedFields.contains(field.name) {
            headers.add(name: field.name.rawName, value: field.value)
        }
        // (`Expect`: this server already answered `100 Continue`, see `RequestGuard`.)
        return forwarded(
            method: HTTPMethod(rawValue: request.method.rawValue), pathAndQuery: pathAndQuery, headers: headers, clientHost: request.authority,
            scheme: request.scheme ?? "http", prefix: prefix, clientAddress: clientAddress)
    }

    /// The head sent upstream for a request the gateway's fast path relays as it came (its `Host`
    /// kept), carrying the gateway's request id so that both servers log the call under one id.
    static func upstreamHead(relaying head: HTTPRequestHead, pathAndQuery: String, requestID: String) -> HTTPRequestHead {
        var relayed = forwarded(
            method: head.method, pathAndQuery: pathAndQuery, headers: head.headers, clientHost: head.headers.first(name: "host"), scheme: "http",
            prefix: nil, clientAddress: nil)
        relayed.headers.replaceOrAdd(name: "x-request-id", value: requestID)
        return relayed
    }

    /// `headers` without hop-by-hop fields, with the `X-Forwarded-*` fields added.
    private static func forwarded(
        method: HTTPMethod, pathAndQuery: String, headers: HTTPHeaders, clientHost: String?, scheme: String, prefix: String?, clientAddress: String?
    ) -> HTTPRequestHead {
        var headers = headers
        removeHopByHop(from: &headers)
        if let address = clientAddress {
            let previous = headers["x-forwarded-for"].joined(separator: ", ")
            headers.replaceOrAdd(name: "X-Forwarded-For", value: previous.isEmpty ? address : "\(previous), \(address)")
        }
        if let clientHost, !headers.contains(name: "x-forwarded-host") { headers.add(name: "X-Forwarded-Host", value: clientHost) }
        if !headers.contains(name: "x-forwarded-proto") { headers.add(name: "X-Forwarded-Proto", value: scheme) }
        if let prefix { headers.replaceOrAdd(name: "X-Forwarded-Prefix", value: prefix) }
        return HTTPRequestHead(version: .http1_1, method: method, uri: pathAndQuery.isEmpty ? "/" : pathAndQuery, headers: headers)
    }

    /// The upstream's response fields as they go to the client (the routes' proxy answers in `HTTPFields`).
    static func downstreamFields(_ headers: HTTPHeaders) -> HTTPFields {
        var headers = headers
        removeHopByHop(from: &headers)
        var fields = HTTPFields()
        fields.reserveCapacity(headers.count)
        for (name, value) in headers {
            guard let name = HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: name, value: value))
        }
        return fields
    }
}
