#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation

/// One agent's warm sandbox: a zygote (`agent-sandbox-exec --zygote`) living inside the agent's
/// bubblewrap namespaces, which forks each call instead of the server starting a fresh bubblewrap.
///
/// The zygote is started exactly like an agent command — helper (cgroups, rlimits, closed fds, uid drop,
/// no_new_privs) then bubblewrap as the agent — so it has nothing a call lacks. Per call the server still
/// creates the cgroup leaf, the pipes and the environment, and hands them straight to an idle call slot
/// (a fork of the zygote in pid and mount namespaces of its own, made on request and kept: the zygote is
/// not woken per call); the slot only forks, joins the leaf through `cgroup.procs` descriptors the server
/// opened, and execs. What a call shares with the agent's other calls
/// is what it already shared (uid, workspace, limits) plus the namespaces: one private `/tmp`, one pid
/// namespace, one network namespace (the agent's own under `isolated`, joined by the helper; bubblewrap's under `none`).
///
/// The zygote is the namespace's pid 1 (`--as-pid-1`: no bubblewrap init holds its socket), not dumpable,
/// and every call runs under a seccomp filter that refuses ptrace, pidfd_getfd and process_vm_*: agent
/// code cannot take the control socket. Should it anyway, it cannot answer for the zygote: each request
/// carries a fresh nonce and each reply an HMAC under a key only the zygote holds (`ZygoteStatusPipe`).
final class WarmSandbox: @unchecked Sendable {
    /// The zygote could not take the call (it exited or was killed); the call did not start.
    struct Gone: Error {}
    /// A reply on the call's status pipe was not the zygote's: the sandbox is not to be trusted.
    struct Forged: Error {}

    static let initPath = "/run/sandbox-init"
    private static let magic: UInt32 = 0x5a59_4732
    /// The header of the one request the zygote itself takes: make a call slot (zygote.c).
    static let slotRequestMagic: UInt32 = 0x5a59_534c
    /// Idle call slots kept for later calls; beyond these, a slot that falls idle is closed (it exits).
    static let spareSlots = 4
    /// Bytes of the reply key (the zygote's `SANDBOX_KEY_BYTES`) and of a request's nonce.
    static let keyBytes = 32, nonceBytes = 16
    /// The largest request the zygote reads (its `MAX_PAYLOAD`).
    private static let maximumPayload = 8 << 20
    /// How long handing a call to the zygote may block (an agent can stop its own zygote): then it is
    /// taken for gone.
    static let sendTimeoutSeconds = 5

    let agent: String
    /// What the sandbox was built for; a request with another fingerprint needs a new one.
    let fingerprint: String
    /// The control socket to the zygote (fd 0 there).
    let socket: Int32
    /// The key the zygote's replies are authenticated with; it read it once, at start, from its socket.
    private let key: HMACSHA256.Key
    private let group: CallGroup?
    private let lock = NSLock()
    /// No call is taken any more (guarded by `lock`).
    var stopped = false
    private var socketClosed = false
    private var active = 0
    private var lastUsed = Date()
    /// The call slots the zygote made for this sandbox, each a socket to the slot's init (zygote_slot.c).
    var slots: [CallSlot] = []

    private init(agent: String, fingerprint: String, socket: Int32, key: [UInt8], group: CallGroup?) {
        self.agent = agent
        self.fingerprint = fingerprint
        self.socket = socket
        self.key = HMACSHA256.Key(key)
        self.group = group
    }

    /// Includes the workspace directory's device and inode: the sandbox binds that directory, so one
    /// swapped in under the same path (an archive import with `mode=replace`) needs a new sandbox.
    static func fingerprint(_ request: LaunchRequest, limits: ProcessLimits) -> String {
        let identity = request.identity.map { "\($0.uid):\($0.gid)" } ?? "-"
        var info = stat()
        let directory = request.workspaceRoot.flatMap { stat($0, &info) == 0 ? "\(info.st_dev):\(info.st_ino)" : nil } ?? "-"
        return "\(identity)|\(request.workspaceRoot ?? "-")@\(directory)|\(request.network.rawValue)\(request.networkAttachment.map { ":\($0.namespacePath)@\($0.gateway)" } ?? "")|\(limits.pidsPerAgent)|\(limits.openFiles)|\(limits.fileSizeBytes)"
    }

    /// Starts the zygote for `request`'s agent and waits until it is ready. Blocking; call it from a
    /// long-lived thread (bubblewrap's `--die-with-parent` fires when the spawning thread exits).
    static func start(for request: LaunchRequest, launcher: ProcessLauncher) throws -> WarmSandbox {
        let limits = request.limits ?? launcher.limits
        var sandboxRequest = request
        sandboxRequest.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": request.workspaceRoot ?? "/", "LANG": "C.UTF-8"]
        sandboxRequest.workingDirectory = request.workspaceRoot ?? request.workingDirectory
        sandboxRequest.executable = initPath
        sandboxRequest.arguments = ["--zygote"]

        var pair: [Int32] = [-1, -1]
        try syscallRetrying("socketpair") { csandbox_socketpair_cloexec(&pair) }
        var timeout = timeval(tv_sec: Self.sendTimeoutSeconds, tv_usec: 0)
        _ = setsockopt(pair[0], SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // The zygote answers a slot request at once (one clone); one stopped by the agent is gone.
        _ = setsockopt(pair[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // The key waits in the socket for the zygote, the first reader: not in argv or the environment.
        let key = ZygoteStatusPipe.randomBytes(Self.keyBytes)
        guard key.withUnsafeBytes({ write(pair[0], $0.baseAddress, $0.count) }) == key.count else {
            close(pair[0])
            close(pair[1])
            throw LaunchError(description: "starting the agent's sandbox: could not hand it its key")
        }
        let group = launcher.cgroups?.makeCallGroup(agent: request.agent, limits: limits, kind: .sandbox)
        var started = false
        defer {
            if !started {
                close(pair[0])
                group?.remove()
            }
        }
        let pipes: PipeSet
        do {
            pipes = try PipeSet(stdinSocket: pair[1])
        } catch {
            close(pair[1])
            throw error
        }
        defer { pipes.closeAll() }
        let pid = try launcher.spawn(
            arguments: launcher.helperArguments(sandboxRequest, group: group, bindIn: launcher.sandboxInit.map { (host: $0, path: initPath) }),
            environment: sandboxRequest.environment, pipes: pipes)
        pipes.closeChildEnds()
        let failure = pipes.readHelperFailure()
        if !failure.isEmpty {
            _ = ChildReaper.shared.status(of: pid, timeout: 5)
            throw LaunchError(description: "starting the agent's sandbox: \(failure)")
        }
        guard awaitReady(pair[0], timeout: 10) else {
            group?.kill()
            let reason = pipes.readAvailableStderr().trimmingCharacters(in: .whitespacesAndNewlines)
            throw LaunchError(description: "starting the agent's sandbox: \(reason.isEmpty ? "bubblewrap did not start" : reason)")
        }
        started = true
        return WarmSandbox(agent: request.agent, fingerprint: fingerprint(request, limits: limits), socket: pair[0], key: key, group: group)
    }

    /// Reads the zygote's one-byte "ready" within `timeout` seconds.
    private static func awaitReady(_ socket: Int32, timeout: Double) -> Bool {
        var ready = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&ready, 1, Int32(timeout * 1000)) == 1 else { return false }
        var byte: UInt8 = 0
        return read(socket, &byte, 1) == 1 && byte == UInt8(ascii: "R")
    }

    /// Whether calls can go here: not stopped, and the zygote has not hung up.
    var isAlive: Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return false }
        var probe = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&probe, 1, 0) == 0
    }

    /// Hands one call to an idle call slot (a new one from the zygote when none is idle): `fds` are status,
    /// error, stdin, stdout, stderr, then the `cgroup.procs` files of the call's leaf. Returns the status
    /// pipe `statusRead` (the read end of `fds[0]`) checked against this request's nonce. Throws `Gone` if
    /// the zygote is not there to make a slot (or a slot does not take the call within
    /// `sendTimeoutSeconds`), `LaunchError` for a command line too large for it or when no slot can be made.
    func submit(_ request: LaunchRequest, fds: [Int32], statusRead: Int32) throws -> ZygoteStatusPipe {
        var payload: [UInt8] = []
        func add(_ text: String) {
            payload += text.utf8
            payload.append(0)
        }
        add(request.workingDirectory)
        add(request.executable)
        add(String(request.arguments.count + 1))
        add(request.executable)
        request.arguments.forEach(add)
        for (name, value) in request.environment.sorted(by: { $0.key < $1.key }) { add("\(name)=\(value)") }
        let nonce = ZygoteStatusPipe.randomBytes(Self.nonceBytes)
        var message = [UInt8]()
        message.reserveCapacity(12 + nonce.count + payload.count)
        for word in [Self.magic, UInt32(payload.count), UInt32(fds.count)] {
            withUnsafeBytes(of: word.littleEndian) { message += $0 }
        }
        message += nonce
        message += payload
        guard payload.count <= Self.maximumPayload else {
            throw LaunchError(description: "the command, its arguments and environment take \(payload.count) bytes; at most \(Self.maximumPayload) fit")
        }

        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { throw Gone() }
        // A slot that died since it fell idle refuses the send: the call goes to another (as many times as
        // there were slots, then to a new one).
        for _ in 0...slots.count {
            let slot = try idleSlot()
            let sent = message.withUnsafeBytes { bytes in
                fds.withUnsafeBufferPointer { csandbox_send_with_fds(slot.socket, bytes.baseAddress, bytes.count, $0.baseAddress, Int32($0.count)) }
            }
            guard sent == 0 else {
                drop(slot)
                continue
            }
            slot.busy = true
            active += 1
            lastUsed = Date()
            return ZygoteStatusPipe(fd: statusRead, key: key, nonce: nonce)
        }
        stopped = true
        throw Gone()
    }

    /// A call submitted here has ended.
    func finished() {
        lock.lock()
        active -= 1
        lastUsed = Date()
        lock.unlock()
    }

    /// Takes the sandbox out of service if no call has run for `idle` seconds (no call can be submitted
    /// after this returns true); the caller then `stop()`s it.
    func retireIfIdle(for idle: Double) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if !stopped, active == 0, Date().timeIntervalSince(lastUsed) >= idle { stopped = true }
        return stopped
    }

    /// Closes the zygote's socket (it exits, ending its pid namespace), then kills and removes its group.
    func stop() {
        lock.lock()
        let first = !socketClosed
        stopped = true
        socketClosed = true
        let open = slots
        slots = []
        lock.unlock()
        guard first else { return }
        open.forEach { close($0.socket) }
        close(socket)
        group?.remove()
    }
}
