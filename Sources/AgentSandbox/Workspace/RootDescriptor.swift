#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Synchronization

/// An open `O_PATH` descriptor of an agent's workspace root, shared by the agent's calls so that a
/// file tool does not walk the root's absolute path (open + close) on every call. `openat2` resolves
/// beneath it exactly as beneath a freshly opened root. Closed when the last holder lets it go.
public final class RootDescriptor: Sendable {
    public let fd: Int32

    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    /// False once the directory has been removed (its link count drops to 0): the path may name a new one.
    var isLinked: Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && info.st_nlink > 0
    }
}

/// The shared root descriptors of live agents. Whatever replaces or removes a workspace directory
/// (delete, re-creation, archive import) calls `forget`; a removed directory is also noticed by its
/// link count. Bounded: past `capacity` entries the cache starts over.
final class RootDescriptorCache: Sendable {
    private struct State {
        var descriptors: [AgentID: RootDescriptor] = [:]
        /// Bumped by every `forget`: a descriptor opened before it is not cached after it.
        var epoch: UInt64 = 0
    }
    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int = 4096) { self.capacity = capacity }

    /// The agent's root, opened on first use; nil when it cannot be opened (callers then open by path
    /// and report the error).
    func descriptor(for agent: AgentID, path: String) -> RootDescriptor? {
        let (cached, epoch) = state.withLock { ($0.descriptors[agent], $0.epoch) }
        if let cached, cached.isLinked { return cached }
        let fd = open(path, csandbox_O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        let fresh = RootDescriptor(fd: fd)
        state.withLock { state in
            guard state.epoch == epoch else { return }
            if state.descriptors.count >= capacity { state.descriptors.removeAll() }
            state.descriptors[agent] = fresh
        }
        return fresh
    }

    /// Drops the agent's descriptor: its workspace directory is being removed or replaced.
    func forget(_ agent: AgentID) {
        state.withLock { state in
            state.descriptors[agent] = nil
            state.epoch &+= 1
        }
    }
}
