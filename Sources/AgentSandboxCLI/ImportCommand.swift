import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `agent-sandbox import AGENT_ID FILE [--mode merge|replace]`: uploads an archive (streamed from the
/// file) into an agent's workspace on a running server and prints what was imported.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Upload an archive into an agent's workspace on a running server.")

    @OptionGroup var server: ServerOptions

    @Argument(help: "The agent's id (a UUID; created if implicit creation is on).")
    var agentID: String

    @Argument(help: "The archive: tar, tar.gz, tar.zst, tar.xz, tar.bz2, zip or cpio (detected from its content).")
    var file: String

    @Option(help: "merge: add to the workspace, replacing files of the same path; replace: the workspace becomes exactly the archive's tree.")
    var mode: String = "merge"

    @Flag(help: "Print the server's JSON reply instead of a summary.")
    var json = false

    func run() async throws {
        guard ["merge", "replace"].contains(mode) else { throw ValidationError("Unknown --mode '\(mode)': use merge or replace.") }
        guard FileManager.default.isReadableFile(atPath: file) else { throw ValidationError("Cannot read \(file).") }
        let agent = agentID.lowercased()
        var request = URLRequest(url: try server.endpoint("/v1/agents/\(agent.escapedPathComponent)/archive?mode=\(mode)"))
        request.httpMethod = "PUT"
        request.setValue(try server.key(), forHTTPHeaderField: "x-api-key")
        request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        request.timeoutInterval = 3600
        let reply = try await server.reaching {
            try await Transfer(progress: ProgressBar(label: "import"), sink: nil).run(request, uploading: URL(fileURLWithPath: file))
        }
        guard reply.status == 200 else { throw ServerError(status: reply.status, body: reply.body) }
        if json {
            print(String(decoding: reply.body, as: UTF8.self))
            return
        }
        let report = (try? JSONSerialization.jsonObject(with: reply.body)) as? [String: Any] ?? [:]
        func count(_ key: String) -> Int { (report[key] as? NSNumber)?.intValue ?? 0 }
        print("imported into \(agent) (\(mode)): \(count("files")) files, \(count("directories")) directories, \(count("symlinks")) symlinks, \(count("hard_links")) hard links, \(ProgressBar.format(Int64(count("bytes"))))")
        if count("special_bits_cleared") > 0 { print("setuid/setgid/sticky bits cleared on \(count("special_bits_cleared")) entries") }
        if count("skipped_count") > 0 {
            print("skipped \(count("skipped_count")) entries:")
            for item in report["skipped"] as? [[String: Any]] ?? [] {
                print("  \(item["path"] as? String ?? "?"): \(item["reason"] as? String ?? "")")
            }
        }
    }
}
