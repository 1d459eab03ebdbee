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
/// A lease on an image that is mounted and not changing is taken and ended under a lock, without
/// suspending (every call takes one); only a mount or an unmount makes anyone wait, for the one task
/// doing it (`Entry.transition`), which records its outcome before it completes.
public final class DiskMounts: Sendable {
    private struct Entry {
        var leases = 0
        var mounted = false
        var idleSince = ContinuousClock.now
        /// A mount or unmount under way: everyone else waits for it.
        var transition: Task<Void, any Error>?
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// Seconds without a lease before an image is unmounted; 0: never (mounted at start-up, kept).
    public let idleSeconds: Double
    private let beforeUnmount: @Sendable (String) -> Void

    /// `beforeUnmount(id)`: drop what the server itself keeps open in the workspace (its root descriptor).
    public init(idleSeconds: Double, beforeUnmount: @escaping @Sendable (String) -> Void) {
        self.idleSeconds = idleSeconds
        self.beforeUnmount = beforeUnmount
    }

    /// What a lease finds: the image mounted, a transition to wait for, or nothing under way (mount it).
    private enum Step {
        case ready
        case wait(Task<Void, any Error>)
        case mount
    }

    /// Takes a lease on `image`, mounting it first when it is not. Pair with `release`. Runs on its
    /// caller's executor (every call takes a lease: no executor switch in and out of it).
    nonisolated(nonsending) public func acquire(_ image: DiskImage) async throws {
        let id = image.id
        var step = entries.withLock { table in
            table[id, default: Entry()].leases += 1
            return Self.step(table[id]!)
        }
        do {
            while true {
                switch step {
                case .ready:
                    return
                case .wait(let running):
                    _ = try? await running.value
                case .mount:
                    // Another lease may have started a mount since: the state is read again under the lock.
                    let mounting = entries.withLock { table -> Task<Void, any Error>? in
                        var entry = table[id] ?? Entry()
                        guard entry.transition == nil, !entry.mounted else { return nil }
                        let mounting = Task<Void, any Error> { [self] in
                            do {
                                try await BlockingWork.run { try image.mount() }
                            } catch {
                                entries.withLock { $0[id]?.transition = nil }
                                throw error
                            }
                            entries.withLock { table in
                                table[id]?.transition = nil
                                table[id]?.mounted = true
                            }
                        }
                        entry.transition = mounting
                        table[id] = entry
                        return mounting
                    }
                    if let mounting {
                        try await mounting.value
                        return
                    }
                }
                step = entries.withLock { $0[id].map(Self.step) ?? .mount }
            }
        } catch {
            release(id)
            throw error
        }
    }

    private static func step(_ entry: Entry) -> Step {
        if let running = entry.transition { return .wait(running) }
        return entry.mounted ? .ready : .mount
    }

    /// Ends a lease; the image's idle time starts when its last one ends.
    public func release(_ id: String) {
        entries.withLock { table in
            guard var entry = table[id] else { return }
            entry.leases = max(0, entry.leases - 1)
            if entry.leases == 0 { entry.idleSince = .now }
            table[id] = entry
        }
    }

    /// Records an image mounted outside a lease (a new agent's disk, a start-up migration, a mount a
    /// crashed server left): its idle time starts now.
    public func adopt(_ id: String) {
        entries.withLock { table in
            table[id, default: Entry()].mounted = true
            table[id]?.idleSince = .now
        }
    }

    /// Forgets an agent whose disk is gone (deleted).
    public func forget(_ id: String) {
        entries.withLock { $0[id] = nil }
    }

    /// Whether the server holds the image mounted (for tests and metrics).
    public func isMounted(_ id: String) -> Bool { entries.withLock { $0[id]?.mounted == true } }

    /// Unmounts every image idle longer than `idleSeconds`; `image(id)` builds its `DiskImage`. One sweep
    /// at a time (the idle loop's).
    public func sweep(_ image: @Sendable (String) -> DiskImage) async {
        guard idleSeconds > 0 else { return }
        let now = ContinuousClock.now
        let idle = entries.withLock { table in
            table.filter { Self.isIdle($0.value, now: now, after: idleSeconds) }.map(\.key)
        }
        for id in idle {
            let disk = image(id)
            let beforeUnmount = beforeUnmount
            // A lease may have come while an earlier image of this sweep was being unmounted.
            let unmounting = entries.withLock { table -> Task<Void, any Error>? in
                guard let entry = table[id], entry.leases == 0, entry.mounted, entry.transition == nil else { return nil }
                let unmounting = Task<Void, any Error> { [self] in
                    beforeUnmount(id)
                    let done = (try? await BlockingWork.run { disk.unmount(force: false) }) ?? false
                    entries.withLock { table in
                        table[id]?.transition = nil
                        if done { table[id]?.mounted = false } else { table[id]?.idleSince = .now }
                    }
                }
                table[id]?.transition = unmounting
                return unmounting
            }
            _ = try? await unmounting?.value
        }
    }

    private static func isIdle(_ entry: Entry, now: ContinuousClock.Instant, after seconds: Double) -> Bool {
        entry.leases == 0 && entry.mounted && entry.transition == nil && now - entry.idleSince >= .seconds(seconds)
    }
}
