#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import SandboxKernel

extension SnapshotService {
    /// Start-up: the file store's directories, then the leftovers of a crash: snapshots of agents that
    /// were deleted (rows and blobs), and blobs that never got their row.
    public func prepare(store fileStore: FileSnapshotBlobStore, logger: Logger) async throws {
        try fileStore.prepare()
        for agent in try await store.agentsWithSnapshotsButDeleted() {
            try await removeAll(of: try AgentID(agent))
        }
        let known = try await store.snapshotBlobKeys()
        let root = fileStore.root
        let removed = try await BlockingWork.run { () -> Int in
            var removed = 0
            let manager = FileManager.default
            for agent in (try? manager.contentsOfDirectory(atPath: root)) ?? [] where agent != "tmp" {
                for name in (try? manager.contentsOfDirectory(atPath: "\(root)/\(agent)")) ?? [] where !known.contains("\(agent)/\(name)") {
                    if unlink("\(root)/\(agent)/\(name)") == 0 { removed += 1 }
                }
                rmdir("\(root)/\(agent)")
            }
            return removed
        }
        if removed > 0 { logger.info("snapshots: removed \(removed) stored archives without a record (left by a crash)") }
    }
}
