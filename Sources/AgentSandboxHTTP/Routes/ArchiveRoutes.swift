#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTPTypes
import Hummingbird

/// `GET /v1/agents/{id}/archive?format=` streams the workspace as an archive;
/// `PUT /v1/agents/{id}/archive?mode=replace|merge` imports one (see `ArchiveImport`).
struct ArchiveRoutes: Sendable {
    let services: SandboxServices

    func addRoutes(to router: Router<BasicRequestContext>) {
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
        let agent = try await services.agents.agent(id)
        let root = agent.workspacePath
        var info = stat()
        guard lstat(root, &info) == 0, FileType(mode: info.st_mode) == .directory else {
            throw ToolError(.internalError, "The workspace of agent \(id) is missing.")
        }
        let headers: HTTPFields = [
            .contentType: format.mediaType,
            .contentDisposition: "attachment; filename=\"\(id).\(format.fileExtension)\"",
            .cacheControl: "no-store",
        ]
        let services = services
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let started = Date()
            let stream = ExportStream()
            stream.start { sink throws(ArchiveError) in
                let fd = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard fd >= 0 else { throw .io(operation: "open", path: root, errno: errno) }
                defer { close(fd) }
                try WorkspaceExporter(writer: try ArchiveWriter(format: format, sink: sink)).run(rootFD: fd)
            }
            var status = "ok"
            defer { services.recordArchive("archive_export", agent: id, started: started, status: status, bytes: stream.bytes) }
            do {
                try await stream.pump(into: &writer)
            } catch {
                status = (error as? ArchiveError)?.toolError.code.rawValue ?? "ABORTED"
                if case .cancelled? = error as? ArchiveError {} else {
                    services.logger.error("archive export of \(id) failed: \(error)")
                }
                throw error
            }
        })
    }

    /// Feeds the request body to an `ArchiveImport` on its own thread as it arrives.
    private func importArchive(_ request: Request, id: AgentID) async throws -> Response {
        let text = request.uri.queryParameters.get("mode") ?? ImportMode.merge.rawValue
        guard let mode = ImportMode(rawValue: text.lowercased()) else {
            throw ToolError.invalidField("mode", "must be replace or merge; got '\(text.prefix(40))'.")
        }
        let limits = services.configuration.limits
        if let declared = request.headers[.contentLength].flatMap(Int64.init), declared > limits.archiveBodyBytes {
            throw ArchiveError.tooLarge("the upload is \(declared) bytes; the server accepts at most \(limits.archiveBodyBytes).").toolError
        }
        let agent = try await services.agents.agentForToolCall(id)
        try services.agents.beginCall(agent)
        defer { services.agents.finishCall(id) }
        let started = Date()
        let job = ArchiveImport(
            workspacePath: agent.workspacePath, owner: services.configuration.launchIdentity(for: agent.identity),
            stagingParent: services.configuration.stateDirectory.appendingPathComponent("imports").path,
            limits: ImportLimits(maxBytes: limits.archiveImportBytes, maxEntries: limits.archiveImportEntries), mode: mode,
            replaced: { [agents = services.agents] in agents.workspaceReplaced(id) })
        let feed = ImportFeed()
        let importing = Task { try await Thread.run(name: "archive-import") { () throws(ArchiveError) in try job.run(feed: feed) } }

        var body = request.body.makeAsyncIterator()
        var received: Int64 = 0
        var failure: ArchiveError?
        do {
            while let buffer = try await body.next() {
                received += Int64(buffer.readableBytes)
                if received > limits.archiveBodyBytes {
                    failure = .tooLarge("the upload is larger than \(limits.archiveBodyBytes) bytes (the server's limit).")
                    break
                }
                if await !feed.push(buffer) { break }
            }
        } catch {
            failure = .cancelled
        }
        feed.finish(failure: failure)
        let result = await importing.result
        if failure == nil {
            // Read what the importer did not need (trailing bytes, or the rest of a refused upload)
            // so the client gets to read the reply.
            while received <= limits.archiveBodyBytes, let buffer = try? await body.next() { received += Int64(buffer.readableBytes) }
        }
        switch result {
        case .success(let report):
            services.recordArchive("archive_import", agent: id, started: started, status: "ok", bytes: Int(received))
            return Response.json(report.json(agent: id, mode: mode))
        case .failure(let error):
            let toolError = (error as? ArchiveError)?.toolError ?? ToolError(.internalError, "Import failed: \(error).")
            services.recordArchive("archive_import", agent: id, started: started, status: toolError.code.rawValue, bytes: Int(received))
            throw toolError
        }
    }
}

extension SandboxServices {
    /// Audit entry and metrics for one archive transfer.
    func recordArchive(_ operation: String, agent: AgentID, started: Date, status: String, bytes: Int) {
        let seconds = Date().timeIntervalSince(started)
        metrics.recordCall(tool: operation, status: status == "ok" ? "ok" : "error", seconds: seconds)
        audit.record(AuditEntry(agentId: agent.rawValue, tool: operation, startedAt: started, durationMs: seconds * 1000, status: status, bytes: Int64(bytes)))
    }
}
