import AgentSandbox
import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `agent-sandbox export AGENT_ID [-o FILE] [--format ...]`: downloads a workspace archive from a
/// running server, streamed to the file as it arrives (`FILE.part` until complete).
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Download an agent's workspace as an archive from a running server.")

    @OptionGroup var server: ServerOptions

    @Argument(help: "The agent's id (a UUID).")
    var agentID: String

    @Option(name: [.customShort("o"), .customLong("output")], help: "File to write; - for stdout (default: AGENT_ID.EXT in the current directory).")
    var output: String?

    @Option(help: "Archive format: tar.gz, tar, zip or tar.zst.")
    var format: String = ArchiveFormat.tarGz.rawValue

    func run() async throws {
        guard let format = ArchiveFormat(query: format) else {
            throw ValidationError("Unknown --format '\(self.format)': use tar.gz, tar, zip or tar.zst.")
        }
        let agent = agentID.lowercased()
        let endpoint = try server.endpoint("/v1/agents/\(agent.escapedPathComponent)/archive?format=\(format.rawValue)")
        let key = try server.key()

        let destination = output ?? "\(agent).\(format.fileExtension)"
        let toStdout = destination == "-"
        let partial = destination + ".part"
        let handle: FileHandle
        if toStdout {
            handle = FileHandle.standardOutput
        } else {
            guard FileManager.default.createFile(atPath: partial, contents: nil), let file = FileHandle(forWritingAtPath: partial) else {
                throw ValidationError("Cannot write \(partial).")
            }
            handle = file
        }
        let reply: (status: Int, body: Data)
        do {
            if endpoint.scheme == "http" {
                reply = try PlainHTTPDownload(url: endpoint, headers: ["x-api-key": key]).run(into: handle.fileDescriptor, progress: ProgressBar(label: "export"))
            } else {
                var request = URLRequest(url: endpoint)
                request.setValue(key, forHTTPHeaderField: "x-api-key")
                request.timeoutInterval = 3600
                let transfer = try await server.reaching { try await Transfer(progress: ProgressBar(label: "export"), sink: handle).run(request) }
                reply = (transfer.status, transfer.body)
            }
            if !toStdout { try handle.close() }
            guard reply.status == 200 else { throw ServerError(status: reply.status, body: reply.body) }
        } catch {
            if !toStdout { try? FileManager.default.removeItem(atPath: partial) }
            throw error
        }
        if !toStdout {
            _ = try? FileManager.default.removeItem(atPath: destination)
            try FileManager.default.moveItem(atPath: partial, toPath: destination)
            let size = (try? FileManager.default.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
            FileHandle.standardError.write(Data("wrote \(destination) (\(ProgressBar.format(Int64(size))))\n".utf8))
        }
    }
}

extension String {
    /// The string percent-encoded for use as one URL path component.
    var escapedPathComponent: String {
        addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? self
    }
}
