import AgentSandbox
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `GET /v1/agents/{id}/archive?format=` streams the workspace as an archive;
/// `PUT /v1/agents/{id}/archive?mode=replace|merge` imports one. Adapters onto `WorkspaceArchive`, each
/// admitted and audited by the pipeline (the ticket closes when the stream does).
struct ArchiveRoutes: Sendable {
    let pipeline: CallPipeline
    let logger: Logger

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/v1/agents/:agent_id/archive") { request, context in
            try await export(request, id: try AgentID(context.parameters.get("agent_id") ?? ""))
        }
        router.put("/v1/agents/:agent_id/archive") { request, context in
            try await importArchive(request, id: try AgentID(context.parameters.get("agent_id") ?? ""))
        }
    }

    /// Answers at once with the headers, then streams the archive as libarchive produces it.
    private func export(_ request: Request, id: AgentID) async throws -> Response {
        let text = request.uri.queryParameters.get("format") ?? ArchiveFormat.tarGz.rawValue
        guard let format = ArchiveFormat(query: text) else {
            throw ToolError.invalidField("format", "must be one of \(ArchiveFormat.allCases.map(\.rawValue).joined(separator: ", ")); got '\(text.prefix(40))'.")
        }
        let ticket = try await pipeline.begin(CallRequest(agentID: id, operation: "archive_export", entry: .sandbox), admission: .anyAgent)
        let headers: HTTPFields = [
            .contentType: format.mediaType,
            .contentDisposition: "attachment; filename=\"\(id).\(format.fileExtension)\"",
            .cacheControl: "no-store",
        ]
        // HEAD (answered by this GET route): the headers, without starting an export nobody reads.
        if request.method == .head {
            ticket.finish()
            return Response(status: .ok, headers: headers)
        }
        let stream: ExportStream
        do {
            stream = try WorkspaceArchive.export(root: ticket.admitted.agent.workspacePath, format: format)
        } catch {
            throw ticket.fail(error)
        }
        let logger = logger
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            do {
                try await stream.pump { chunk in try await writer.write(chunk) }
                try await writer.finish(nil)
                ticket.finish(bytes: stream.bytes)
            } catch {
                ticket.fail(error)
                if case .cancelled? = error as? ArchiveError {} else {
                    logger.error("archive export of \(id) failed: \(error)")
                }
                throw error
            }
        })
    }

    /// Feeds the request body to an import job as it arrives.
    private func importArchive(_ request: Request, id: AgentID) async throws -> Response {
        let text = request.uri.queryParameters.get("mode") ?? ImportMode.merge.rawValue
        guard let mode = ImportMode(rawValue: text.lowercased()) else {
            throw ToolError.invalidField("mode", "must be replace or merge; got '\(text.prefix(40))'.")
        }
        let limit = pipeline.configuration.limits.archiveBodyBytes
        if let declared = request.headers[.contentLength].flatMap(Int64.init), declared > limit {
            throw ArchiveError.tooLarge("the upload is \(declared) bytes; the server accepts at most \(limit).").toolError
        }
        // A failed import for an agent this call created leaves nothing behind: the agent goes again.
        let existed = await pipeline.agents.exists(id)
        let ticket = try await pipeline.begin(CallRequest(agentID: id, operation: "archive_import", entry: .sandbox), admission: .toolCall)
        let job = WorkspaceArchive.ImportJob(
            agent: ticket.admitted.agent, configuration: pipeline.configuration, mode: mode,
            replaced: { [agents = pipeline.agents] in agents.workspaceReplaced(id) })

        var body = request.body.makeAsyncIterator()
        var received: Int64 = 0
        var failure: ArchiveError?
        do {
            while let buffer = try await body.next() {
                received += Int64(buffer.readableBytes)
                if received > limit {
                    failure = .tooLarge("the upload is larger than \(limit) bytes (the server's limit).")
                    break
                }
                if await !job.push(buffer) { break }
            }
        } catch {
            failure = .cancelled
        }
        let result = await job.finish(failure: failure)
        if failure == nil {
            // Read what the importer did not need (trailing bytes, or the rest of a refused upload)
            // so the client gets to read the reply.
            while received <= limit, let buffer = try? await body.next() { received += Int64(buffer.readableBytes) }
        }
        switch result {
        case .success(let report):
            ticket.finish(bytes: Int(received))
            return Response.json(report.json(agent: id, mode: mode))
        case .failure(let error):
            let failure = ticket.fail(error)
            if !existed { await pipeline.agents.discard(id) }
            throw failure
        }
    }
}
