import Synchronization

/// Whether this server can give agents disk images, probed once, when first needed: at start-up when a
/// default cap is set (`--disk-bytes` > 0, the default), else at the first agent that asks for
/// `limits.disk_bytes` — a server with caps off never makes a probe image (`DiskImageProbe`).
public final class DiskImageSupport: Sendable {
    private let stateDirectory: String
    private let refusal: String?
    private let result = Mutex<String??>(nil)

    /// `refusal`: a reason known up front that images cannot be used (e.g. `--allow-shared-uid`).
    public init(stateDirectory: String, refusal: String? = nil) {
        self.stateDirectory = stateDirectory
        self.refusal = refusal
    }

    /// nil when images work, else a sentence saying why not. Blocks on the first call (it makes,
    /// mounts and removes a 16 MiB image): call it on `BlockingWork`.
    public var problem: String? {
        result.withLock { cached in
            if let known = cached { return known }
            let found = refusal ?? DiskImageProbe.problem(stateDirectory: stateDirectory)
            cached = .some(found)
            return found
        }
    }

    /// Whether images work (probing if not yet done).
    public var available: Bool { problem == nil }

    /// Whether the probe has run (for tests and the start-up log).
    public var probed: Bool { result.withLock { $0 != nil } }
}
