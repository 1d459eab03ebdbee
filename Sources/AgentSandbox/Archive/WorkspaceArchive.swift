#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import SandboxKernel

/// The archive operations an entry point drives, without reaching into libarchive's wrappers:
/// `export` starts streaming a workspace; `ImportJob` takes an upload's buffers as they arrive.
public enum WorkspaceArchive {
    /// Starts exporting the workspace at `root` in `format` on its own thread; read the blocks with
    /// `ExportStream.pump`.
    public static func export(root: String, format: ArchiveFormat) throws(ToolError) -> ExportStream {
        var info = stat()
        guard lstat(root, &info) == 0, FileType(mode: info.st_mode) == .directory else {
            throw ToolError(.internalError, "The workspace \(root) is missing.")
        }
        let stream = ExportStream()
        stream.start { sink throws(ArchiveError) in
            let fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw .io(operation: "open", path: root, errno: errno) }
            defer { close(fd) }
            try WorkspaceExporter(writer: try ArchiveWriter(format: format, sink: sink)).run(rootFD: fd)
        }
        return stream
    }

    /// One archive import in progress: the importer runs on its own thread and reads what `push` hands it.
    public final class ImportJob: Sendable {
        private let feed = ImportFeed()
        private let importing: Task<ImportReport, any Error>

        /// Starts importing into `agent`'s workspace; `replaced` runs when `mode` swapped the directory.
        public init(agent: Agent, configuration: ServerConfiguration, mode: ImportMode, replaced: @escaping @Sendable () -> Void) {
            let limits = configuration.limits
            let job = ArchiveImport(
                workspacePath: agent.workspacePath, owner: configuration.launchIdentity(for: agent.identity),
                stagingParent: DiskImage.stagingParent(of: agent, configuration: configuration),
                limits: ImportLimits(maxBytes: limits.archiveImportBytes, maxEntries: limits.archiveImportEntries), mode: mode,
                replaced: replaced)
            let feed = feed
            importing = Task { try await Thread.run(name: "archive-import") { () throws(ArchiveError) in try job.run(feed: feed) } }
        }

        /// Hands the importer the next piece of the upload; false once it needs no more (it finished or failed).
        public func push(_ buffer: ByteBuffer) async -> Bool {
            await feed.push(buffer)
        }

        /// Ends the upload (`failure`: it broke off or was too large) and waits for the importer's result.
        public func finish(failure: ArchiveError?) async -> Result<ImportReport, any Error> {
            feed.finish(failure: failure)
            return await importing.result
        }
    }
}
