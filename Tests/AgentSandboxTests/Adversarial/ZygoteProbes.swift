import Foundation

/// Python programs the zygote tests run: inside the sandbox as the agent, or on the host as root.
enum ZygoteProbes {
    /// Inside the sandbox: tries every way agent code could take the zygote's control socket or read its
    /// memory, and prints one line per attempt. Extra pids (argv) are tried too (bubblewrap's monitor).
    static let reach = #"""
    import ctypes, errno, os, platform, sys
    libc = ctypes.CDLL(None, use_errno=True)
    arm = platform.machine() == "aarch64"
    def call(number, *args):
        ctypes.set_errno(0)
        result = libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) for a in args])
        return result, errno.errorcode.get(ctypes.get_errno(), "0")
    print("pid1", open("/proc/1/cmdline", "rb").read().replace(b"\0", b" ").decode().strip())
    pids = sorted({int(p) for p in os.listdir("/proc") if p.isdigit()} - {os.getpid()} | {int(a) for a in sys.argv[1:]})
    for pid in pids:
        pidfd, err = call(434, pid, 0)
        if pidfd < 0:
            print("pidfd_open", pid, err); continue
        for fd in range(8):
            got, err = call(438, pidfd, fd, 0)
            print("pidfd_getfd", pid, fd, "STOLEN" if got >= 0 else err)
        os.close(pidfd)
    ctypes.set_errno(0)
    print("ptrace_attach 1", libc.ptrace(ctypes.c_long(16), ctypes.c_long(1), None, None), errno.errorcode.get(ctypes.get_errno(), "0"))
    buffer = ctypes.create_string_buffer(64)
    local = (ctypes.c_void_p * 2)(ctypes.cast(buffer, ctypes.c_void_p), 64)
    remote = (ctypes.c_void_p * 2)(0x400000, 64)
    got, err = call(270 if arm else 310, 1, ctypes.addressof(local), 1, ctypes.addressof(remote), 1, 0)
    print("process_vm_readv 1", got, err)
    got, err = call(271 if arm else 311, 1, ctypes.addressof(local), 1, ctypes.addressof(remote), 1, 0)
    print("process_vm_writev 1", got, err)
    for path in ["/proc/1/fd/0", "/proc/1/mem", "/proc/1/environ"]:
        try:
            os.close(os.open(path, os.O_RDONLY)); print("open", path, "OPENED")
        except OSError as e:
            print("open", path, errno.errorcode.get(e.errno, e.errno))
    """#

    /// Inside the sandbox, running beside later calls: for `seconds`, sweeps every process's descriptors
    /// with pidfd_getfd and the zygote's (pid 1) through /proc/1/fd, reads whatever it gets, and logs all
    /// of it. Touches `attack.ready` after its first sweep; its last line is `sweeps=N stolen=M`.
    static let race = #"""
    import ctypes, os, socket, sys, time
    libc = ctypes.CDLL(None, use_errno=True)
    def call(number, *args):
        return libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) for a in args])
    log = open("attack.log", "a", buffering=1)
    def take(fd, where):
        log.write(f"STOLE {where}\n")
        try:
            data, fds, _, _ = socket.recv_fds(socket.socket(fileno=fd), 1 << 20, 16, socket.MSG_DONTWAIT)
            log.write(f"got {len(fds)} fds: {data!r}\n")
        except OSError as e:
            try: log.write(f"read {os.read(fd, 1 << 20)!r}\n")
            except OSError as e2: log.write(f"unreadable {e} {e2}\n")
        return 1
    end, sweeps, stolen = time.time() + float(sys.argv[1]), 0, 0
    while time.time() < end:
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == os.getpid(): continue
            pidfd = call(434, int(name), 0)
            if pidfd >= 0:
                for fd in range(16):
                    got = call(438, pidfd, fd, 0)
                    if got >= 0: stolen += take(got, f"pidfd_getfd {name} {fd}")
                os.close(pidfd)
        for fd in range(16):
            try: stolen += take(os.open(f"/proc/1/fd/{fd}", os.O_RDWR | os.O_NONBLOCK), f"/proc/1/fd/{fd}")
            except OSError: pass
        sweeps += 1
        if sweeps == 1: open("attack.ready", "w").close()
    log.write(f"sweeps={sweeps} stolen={stolen}\n")
    """#

    /// On the host, as root (what no agent can do): stops a call slot (argv[1]), takes its socket to the
    /// server, receives the next call in its place and answers it with forged output and replies. Prints "ready", then
    /// "forged" once it answered.
    static let forge = #"""
    import ctypes, os, signal, socket, struct, sys
    libc = ctypes.CDLL(None, use_errno=True)
    slot = int(sys.argv[1])
    os.kill(slot, signal.SIGSTOP)
    pidfd = os.pidfd_open(slot)
    fd = libc.syscall(ctypes.c_long(438), ctypes.c_long(pidfd), ctypes.c_long(0), ctypes.c_long(0))
    assert fd >= 0, ctypes.get_errno()
    print("ready", flush=True)
    data, fds, _, _ = socket.recv_fds(socket.socket(fileno=fd), 1 << 20, 16)
    status, error, stdin, stdout, stderr = fds[:5]
    os.write(stdout, b"forged-output\n")
    os.write(status, struct.pack("=Ii", 1, 4242) + bytes(32))
    os.write(status, struct.pack("=Ii", 3, 0) + bytes(32))
    for f in fds: os.close(f)
    print("forged", flush=True)
    """#
}
