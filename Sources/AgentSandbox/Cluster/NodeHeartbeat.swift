#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// A node's heartbeat: every `interval` it records in the shared store that it is alive, where it is
/// reached, and its capacity (max agents, free bytes on the data root's file system).
public struct NodeHeartbeat: Sendable {
    public let directory: any ClusterDirectory
    public let identity: NodeIdentity
    public let dataRoot: String
    public let interval: Double
    public let logger: Logger

    public init(directory: any ClusterDirectory, identity: NodeIdentity, dataRoot: String, interval: Double, logger: Logger) {
        self.directory = directory
        self.identity = identity
        self.dataRoot = dataRoot
        self.interval = interval
        self.logger = logger
    }

    /// One beat; `advertiseURL` is the identity's, or the listener's own address.
    public func beat(advertiseURL: String) async throws {
        try await directory.heartbeat(node: identity.id, advertiseURL: identity.advertiseURL ?? advertiseURL,
                                      maxAgents: identity.maxAgents, freeDiskBytes: Self.freeBytes(at: dataRoot))
    }

    /// Beats until cancelled; a failed beat is logged and retried at the next tick (the node keeps serving:
    /// gateways decide, from the heartbeat's age, when it counts as gone).
    public func run(advertiseURL: String) async {
        var failing = false
        while !Task.isCancelled {
            do {
                try await beat(advertiseURL: advertiseURL)
                if failing { logger.info("cluster heartbeat recovered") }
                failing = false
            } catch {
                if !failing { logger.warning("cluster heartbeat failed: \(error)") }
                failing = true
            }
            try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
    }

    /// Free bytes (for unprivileged use) on the file system holding `path`; 0 when it cannot be read.
    public static func freeBytes(at path: String) -> Int64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return 0 }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
