import SandboxKernel

/// Mounts agents' disk images on first use and unmounts them once idle, so a server with a thousand
/// agents keeps only its busy ones in the mount table (every sandbox start copies that table: with all
/// images mounted a `bash true` costs several times more).
///
/// Everything that touches a workspace holds a `DiskLease` while it does — every call through the
/// `CallPipeline` (tools, exec, archives, snapshots, fork, shares, watch: a ticket holds one until it is
/// finished, so streamed replies and watches keep theirs), `GET /v1/agents/{id}` (it measures the tree),
/// `PATCH` limits. The first lease mounts; the image is unmounted `idleSeconds` after its last lease
/// ended. An unmount refused (an open file; a warm sandbox or a session's process whose directory is
/// in the workspace: the sandbox is a user until it stops) is retried at the next sweep. A sandbox's own mount namespace may keep the file system alive after the
/// server's unmount; the next mount reuses that same superblock (`DiskImage.attach`), so both views
/// stay one file system.
public actor DiskMounts {
    private struct Entry {
        var leases = 0
        var mounted = false
        var idleSince = ContinuousClock.now
        /// A mount or unmount under way: everyone else waits for it.
        var transition: Task<Void, any Error>?
    }

    private var entries: [String: Entry] = [:]
    /// Seconds without a lease before an image is unmounted; 0: never (mounted at start-up, kept).
    public nonisolated let idleSeconds: Double
    private let beforeUnmount: @Sendable (String) -> Void

    /// `beforeUnmount(id)`: drop what the server itself keeps open in the workspace (its root descriptor).
    public init(idleSeconds: Double, beforeUnmount: @escaping @Sendable (String) -> Void) {
        self.idleSeconds = idleSeconds
        self.beforeUnmount = beforeUnmount
    }

    /// Takes a lease on `image`, mounting it first when it is not. Pair with `release`.
    public func acquire(_ image: DiskImage) async throws {
        let id = image.id
        entries[id, default: Entry()].leases += 1
        do {
            while true {
                if let running = entries[id]?.transition {
                    _ = try? await running.value
                    continue
                }
                if entries[id]?.mounted == true { return }
                let mounting = Task { try await BlockingWork.run { try image.mount() } }
                entries[id]?.transition = mounting
                defer { entries[id]?.transition = nil }
                try await mounting.value
                entries[id]?.mounted = true
                return
            }
        } catch {
            release(id)
            throw error
        }
    }

    /// Ends a lease; the image's idle time starts when its last one ends.
    public func release(_ id: String) {
        guard var entry = entries[id] else { return }
        entry.leases = max(0, entry.leases - 1)
        if entry.leases == 0 { entry.idleSince = .now }
        entries[id] = entry
    }

    /// Records an image mounted outside a lease (a new agent's disk, a start-up migration, a mount a
    /// crashed server left): its idle time starts now.
    public func adopt(_ id: String) {
        entries[id, default: Entry()].mounted = true
        entries[id]?.idleSince = .now
    }

    /// Forgets an agent whose disk is gone (deleted).
    public func forget(_ id: String) {
        entries[id] = nil
    }

    /// Whether the server holds the image mounted (for tests and metrics).
    public func isMounted(_ id: String) -> Bool { entries[id]?.mounted == true }

    /// Unmounts every image idle longer than `idleSeconds`; `image(id)` builds its `DiskImage`.
    public func sweep(_ image: @Sendable (String) -> DiskImage) async {
        guard idleSeconds > 0 else { return }
        let now = ContinuousClock.now
        let idle = entries.filter { $0.value.leases == 0 && $0.value.mounted && $0.value.transition == nil && now - $0.value.idleSince >= .seconds(idleSeconds) }
        for id in idle.keys {
            // A lease may have come while an earlier image of this sweep was being unmounted.
            guard let entry = entries[id], entry.leases == 0, entry.mounted, entry.transition == nil else { continue }
            let disk = image(id)
            let beforeUnmount = beforeUnmount
            let unmounting = Task {
                beforeUnmount(id)
                guard try await BlockingWork.run({ disk.unmount(force: false) }) else { throw CancellationError() }
            }
            entries[id]?.transition = unmounting
            let done = (try? await unmounting.value) != nil
            entries[id]?.transition = nil
            if done { entries[id]?.mounted = false } else { entries[id]?.idleSince = .now }
        }
    }
}
