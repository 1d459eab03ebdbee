import AgentSandbox
import Foundation
import HTTPTypes
import Hummingbird

/// Share downloads (`GET /s/{token}/{filename}`, no API key) and the shares API
/// (`GET /v1/agents/{id}/shares`, `DELETE /v1/agents/{id}/shares/{token}`).
struct ShareRoutes: Sendable {
    let pipeline: CallPipeline

    func addRoutes(to router: Router<some RequestContext>) {
        let shares = pipeline.shares
        let fileIO = Hummingbird.FileIO()
        router.get("/s/:token/:filename") { request, context in
            try await download(request, context: context, shares: shares, fileIO: fileIO)
        }
        router.head("/s/:token/:filename") { request, context in
            var response = try await download(request, context: context, shares: shares, fileIO: fileIO)
            response.body = .init()
            return response
        }
        router.get("/v1/agents/:agent_id/shares") { _, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            let list = try await pipeline.run(CallRequest(agentID: id, operation: "shares.list", entry: .sandbox), admission: .anyAgent) { _ in
                try await shares.list(agent: id)
            }
            return Response.json(JSONValue.object(["shares": .array(list.map { $0.json(url: shares.url(for: $0)) })]))
        }
        router.delete("/v1/agents/:agent_id/shares/:token") { _, context in
            let id = try AgentID(context.parameters.get("agent_id") ?? "")
            let token = context.parameters.get("token") ?? ""
            try await pipeline.run(CallRequest(agentID: id, operation: "shares.revoke", entry: .sandbox), admission: .anyAgent) { _ in
                guard try await shares.revoke(token: token, agent: id) else {
                    throw ToolError(.notFound, "Agent \(id) has no share with that token (it may have expired or been revoked already).")
                }
            }
            return Response.json(JSONValue.object(["token": .string(token), "revoked": true]))
        }
    }

    private func download(_ request: Request, context: some RequestContext, shares: ShareService, fileIO: Hummingbird.FileIO) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        let filename = (context.parameters.get("filename") ?? "").removingPercentEncoding
        guard let record = try await shares.lookup(token: token), filename == record.filename else {
            throw ToolError(.notFound, "No such share: the link is wrong, expired or revoked.")
        }
        let etag = "\"\(record.sha256)\""
        var headers = ShareHeaders.fields(for: record, etag: etag)
        if let match = request.headers[.ifNoneMatch], match == etag || match == "*" {
            return Response(status: .notModified, headers: headers)
        }
        var range = ByteRange(header: request.headers[.range], size: record.size)
        if let ifRange = request.headers[.ifRange], ifRange != etag { range = .whole }
        let path = shares.blobPath(record)
        switch range {
        case .whole:
            headers[.contentLength] = String(record.size)
            let body = record.size == 0 ? ResponseBody() : try await fileIO.loadFile(path: path, context: context)
            return Response(status: .ok, headers: headers, body: body)
        case .partial(let bytes):
            headers[.contentLength] = String(bytes.count)
            headers[.contentRange] = "bytes \(bytes.lowerBound)-\(bytes.upperBound)/\(record.size)"
            let body = try await fileIO.loadFile(path: path, range: Int(bytes.lowerBound)...Int(bytes.upperBound), context: context)
            return Response(status: .partialContent, headers: headers, body: body)
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(record.size)"
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .rangeNotSatisfiable, headers: headers, body: .init(byteBuffer: .init(string: "Range not satisfiable: the file has \(record.size) bytes.\n")))
        }
    }
}

/// The headers of a share download.
enum ShareHeaders {
    static func fields(for record: ShareRecord, etag: String) -> HTTPFields {
        let ascii = String(record.filename.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0 != "\\" && $0.value >= 0x20 ? Character($0) : "_" })
        let encoded = record.filename.addingPercentEncoding(withAllowedCharacters: ShareService.unreserved) ?? ascii
        let disposition = ContentType.inline.contains(record.contentType) ? "inline" : "attachment"
        let maxAge = max(0, Int(record.expiresAt.timeIntervalSinceNow))
        return [
            .contentType: record.contentType,
            .eTag: etag,
            .acceptRanges: "bytes",
            .contentDisposition: "\(disposition); filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)",
            .cacheControl: "private, max-age=\(maxAge)",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            .contentSecurityPolicy: "sandbox; default-src 'none'; img-src 'self'; media-src 'self'",
        ]
    }
}
