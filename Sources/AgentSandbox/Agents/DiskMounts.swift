import SandboxKernel
import Synchronization

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
///
/// A lease on an image that is mounted and not changing is taken with one lookup under a lock and
/// ended under it without any (the lease holds its entry), never suspending: every call takes one.
/// Only a mount or an unmount makes anyone wait, for the one task doing it (`Entry.transition`), which
/// records its outcome before it completes. An agent whose workspace is a plain directory has an entry
/// too (never mounted): a call learns that from the same lookup.
public final class DiskMounts: Sendable {
    /// One agent's disk as the server holds it. Its variables are read and changed only under
    /// `entries`' lock; a lease keeps a reference so that ending it needs no lookup.
    final class Entry: @unchecked Sendable {
        /// Where the agent's workspace is when its disk is this image (`DiskImage.workspace`).
        let workspace: String
        var leases = 0
        var mounted = false
        var idleSince = ContinuousClock.now
        /// A mount or unmount under way: everyone else waits for it.
        var transition: Task<Void, any Error>?

        init(workspace: String) {
            self.workspace = workspace
        }
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// Seconds without a lease before an image is unmounted; 0: never (mounted at start-up, kept).
    public let idleSeconds: Double
    /// The image of an agent, by id (`AgentRegistry.diskImage`).
    let image: @Sendable (String) -> DiskImage
    private let beforeUnmount: @Sendable (String) -> Void

    /// `image(id)`: the agent's `DiskImage`; `beforeUnmount(id)`: drop what the server itself keeps open
    /// in the workspace (its root descriptor).
    public init(idleSeconds: Double, image: @escaping @Sendable (String) -> DiskImage, beforeUnmount: @escaping @Sendable (String) -> Void) {
        self.idleSeconds = idleSeconds
        self.image = image
        self.beforeUnmount = beforeUnmount
    }

    /// What a lease finds: the image mounted, a transition to wait for, or nothing under way (mount it).
    private enum Step {
        case ready
        case wait(Task<Void, any Error>)
        case mount
    }

    /// A lease on agent `id`'s image, mounted first when it is not — when `workspace` (the agent's) is
    /// inside it; nil when the agent's workspace is a plain directory. Runs on its caller's executor
    /// (every call takes a lease: no executor switch in and out of it).
    nonisolated(nonsending) public func lease(_ id: String, workspace: String) async throws -> DiskLease? {
        let claimed = entries.withLock { table -> (Entry, Step)? in
            let entry = Self.entry(id, in: &table, image: image)
            guard entry.workspace == workspace else { return nil }
            entry.leases += 1
            return (entry, Self.step(entry))
        }
        guard let (entry, first) = claimed else { return nil }
        var step = first
        do {
            while true {
                switch step {
                case .ready:
                    return DiskLease(entry: entry, mounts: self)
                case .wait(let running):
                    _ = try? await running.value
                case .mount:
                    // Another lease may have started a mount since: the state is read again under the lock.
                    let mounting = entries.withLock { _ -> Task<Void, any Error>? in
                        guard entry.transition == nil, !entry.mounted else { return nil }
                        let disk = image(id)
                        let mounting = Task<Void, any Error> { [self] in
                            do {
                                try await BlockingWork.run { try disk.mount() }
                            } catch {
                                entries.withLock { _ in entry.transition = nil }
                                throw error
                            }
                            entries.withLock { _ in
                                entry.transition = nil
                                entry.mounted = true
                            }
                        }
                        entry.transition = mounting
                        return mounting
                    }
                    if let mounting {
                        try await mounting.value
                        return DiskLease(entry: entry, mounts: self)
                    }
                }
                step = entries.withLock { _ in Self.step(entry) }
            }
        } catch {
            release(entry)
            throw error
        }
    }

    /// The entry of agent `id`, made on first use.
    private static func entry(_ id: String, in table: inout [String: Entry], image: (String) -> DiskImage) -> Entry {
        if let entry = table[id] { return entry }
        let entry = Entry(workspace: image(id).workspace)
        table[id] = entry
        return entry
    }

    private static func step(_ entry: Entry) -> Step {
        if let running = entry.transition { return .wait(running) }
        return entry.mounted ? .ready : .mount
    }

    /// Ends a lease; the image's idle time starts when its last one ends.
    func release(_ entry: Entry) {
        entries.withLock { _ in
            entry.leases = max(0, entry.leases - 1)
            if entry.leases == 0 { entry.idleSince = .now }
        }
    }

    /// Records an image mounted outside a lease (a new agent's disk, a start-up migration, a mount a
    /// crashed server left): its idle time starts now.
    public func adopt(_ id: String) {
        entries.withLock { table in
            let entry = Self.entry(id, in: &table, image: image)
            entry.mounted = true
            entry.idleSince = .now
        }
    }

    /// Forgets an agent whose disk is gone (deleted).
    public func forget(_ id: String) {
        entries.withLock { $0[id] = nil }
    }

    /// Whether the server holds the image mounted (for tests and metrics).
    public func isMounted(_ id: String) -> Bool { entries.withLock { $0[id]?.mounted == true } }

    /// Unmounts every image idle longer than `idleSeconds`. One sweep at a time (the idle loop's).
    public func sweep() async {
        guard idleSeconds > 0 else { return }
        let now = ContinuousClock.now
        let idle = entries.withLock { table in
            table.filter { Self.isIdle($0.value, now: now, after: idleSeconds) }
        }
        for (id, entry) in idle {
            let disk = image(id)
            let beforeUnmount = beforeUnmount
            // A lease may have come while an earlier image of this sweep was being unmounted, or the
            // agent gone (its entry forgotten).
            let unmounting = entries.withLock { table -> Task<Void, any Error>? in
                guard table[id] === entry, entry.leases == 0, entry.mounted, entry.transition == nil else { return nil }
                let unmounting = Task<Void, any Error> { [self] in
                    beforeUnmount(id)
                    let done = (try? await BlockingWork.run { disk.unmount(force: false) }) ?? false
                    entries.withLock { _ in
                        entry.transition = nil
                        if done { entry.mounted = false } else { entry.idleSince = .now }
                    }
                }
                entry.transition = unmounting
                return unmounting
            }
            _ = try? await unmounting?.value
        }
    }

    private static func isIdle(_ entry: Entry, now: ContinuousClock.Instant, after seconds: Double) -> Bool {
        entry.leases == 0 && entry.mounted && entry.transition == nil && now - entry.idleSince >= .seconds(seconds)
    }
}
