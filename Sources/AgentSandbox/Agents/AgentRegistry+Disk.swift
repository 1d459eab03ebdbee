#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation
import Logging
import SandboxKernel

/// The agents' disks: a capped agent's workspace lives in its own loop-mounted image (`DiskImage`);
/// an uncapped one (caps off: `--disk-bytes 0`) is a plain directory `<data root>/<id>/`.
extension AgentRegistry {
    /// The disk image an agent has (or would have).
    public func diskImage(_ id: String) -> DiskImage {
        mounts.image(id)
    }

    /// Where the agent's workspace is: inside its image when it has one.
    func workspacePath(of id: String) -> String {
        let image = diskImage(id)
        return image.exists ? image.workspace : image.mountPoint
    }

    /// The creation's settings with the server's default cap filled in; 400 when a cap is asked for on
    /// a server that cannot give one.
    func diskSettings(_ settings: AgentSettings) async throws -> AgentSettings {
        var settings = settings
        if settings.diskBytes == nil, configuration.diskBytes > 0 { settings.diskBytes = configuration.diskBytes }
        let support = configuration.diskImages
        // The first capped agent of a server started with --disk-bytes 0 runs the probe (once).
        if settings.diskBytes != nil, !(support.probed ? support.available : try await BlockingWork.run { support.available }) {
            throw ToolError.invalidField("limits.disk_bytes", "cannot be enforced by this server (disk images need root, loop devices and mkfs.ext4; see the server's start-up log).")
        }
        return settings
    }

    /// A new agent's disk: whatever an earlier agent of the id left is removed, then (with a cap) a
    /// fresh image — one made ahead by the pool when it has one of that size — is mounted. A failure
    /// forgets the agent's row: no agent without its cap.
    func prepareDisk(_ id: AgentID, bytes: Int64?) async throws {
        let image = diskImage(id.rawValue)
        let pool = configuration.diskImagePool
        do {
            try await BlockingWork.run {
                image.destroy()
                if let bytes {
                    if pool?.take(bytes: bytes, into: image.imagePath) != true {
                        try image.create(bytes: bytes)
                    }
                    // Also after a miss: a refill that failed once (a full disk) is tried again.
                    if bytes == pool?.bytes { pool?.refillInBackground() }
                    try image.mount(fresh: true)
                }
            }
        } catch {
            _ = try? await BlockingWork.run { image.destroy() }
            try? await store.forgetAgent(id: id.rawValue)
            throw error
        }
    }

    /// Removes the agent's workspace: its image (unmounted, lazily if something still holds it), or its
    /// directory. 0, or -1 with errno.
    static func removeDisk(of agent: Agent, _ configuration: ServerConfiguration) -> Int32 {
        let image = DiskImage(id: agent.id.rawValue, dataRoot: configuration.dataRoot.path, stateDirectory: configuration.stateDirectory.path)
        guard image.exists else { return csandbox_remove_tree(agent.workspacePath) }
        image.destroy()
        return image.exists ? -1 : 0
    }

    /// Start-up: migrations a crash interrupted finished or undone, plain workspaces moved into images
    /// when caps are on, images of agents that no longer exist removed. Images are mounted on first use
    /// (`DiskMounts`); one still mounted (a crash) is kept until idle. With `--disk-idle 0` every live
    /// agent's image is mounted now and stays mounted.
    public func mountDisks(logger: Logger) async throws {
        let records = try await store.liveAgents()
        let live = Set(records.map(\.id))
        let configuration = configuration
        let eager = mounts.idleSeconds == 0
        for record in records {
            let image = diskImage(record.id)
            var migrated: Int64?
            do {
                migrated = try await BlockingWork.run { () throws -> Int64? in
                    image.recoverMigration()
                    if image.exists {
                        if eager || image.isMounted { try image.mount() }
                    } else if configuration.diskBytes > 0, configuration.diskImages.available, access(image.mountPoint, F_OK) == 0 {
                        return try image.migrate(capBytes: configuration.diskBytes)
                    }
                    return nil
                }
            } catch {
                // One agent's disk must not keep the others down: its calls fail until it is fixed.
                logger.error("agent \(record.id): \(ToolError(normalizing: error).message)")
                continue
            }
            if image.isMounted { mounts.adopt(record.id) }
            if let migrated {
                var settings = record.settings.flatMap { try? JSONDecoder().decode(AgentSettings.self, from: Data($0.utf8)) } ?? AgentSettings()
                settings.diskBytes = migrated
                try await store.setSettings(String(decoding: try JSONEncoder().encode(settings), as: UTF8.self), of: record.id)
                logger.info("agent \(record.id): workspace moved into a \(migrated)-byte disk image")
            }
        }
        let directory = configuration.stateDirectory.appendingPathComponent("disks").path
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".img") {
            let id = String(name.dropLast(4))
            if !live.contains(id) { _ = try? await BlockingWork.run { self.diskImage(id).destroy() } }
        }
        startIdleUnmounts()
    }

    /// Shutdown: every image unmounted and its loop device freed. One still in use stays mounted (a lazy
    /// detach could leave it writing while the next server mounts it again); start-up keeps it.
    public func unmountDisks() async {
        guard let records = try? await store.liveAgents() else { return }
        for record in records {
            let image = diskImage(record.id)
            guard image.exists else { continue }
            if let id = try? AgentID(record.id) { workspaceReplaced(id) }  // its cached root descriptor holds the mount
            _ = try? await BlockingWork.run { image.unmount(force: false) }
        }
    }
}

extension AgentRegistry {
    /// Runs `work` with the agent stopped and its disk free to unmount: its calls get 429 meanwhile
    /// (refused at once when calls are running), `stop` ends what the registry does not own (exec
    /// sessions, warm sandbox), then every process of its uid is killed and its root descriptor dropped.
    func whileDiskOffline(_ agent: Agent, stop: () async -> Void, work: () async throws -> Void) async throws {
        let id = agent.id
        resizing.withLock { _ = $0.insert(id) }
        defer { resizing.withLock { _ = $0.remove(id) } }
        if callsInFlight.withLock({ $0[id, default: 0] }) > 0 {
            throw ToolError(.tooManyRequests, "Agent \(id) has calls running; retry the disk change when they are done.")
        }
        await stop()
        if configuration.launchIdentity(for: agent.identity) != nil {
            try await BlockingWork.run { Self.killProcesses(of: agent.identity.uid) }
        }
        workspaceReplaced(id)
        try await work()
        workspaceReplaced(id)
    }
}
