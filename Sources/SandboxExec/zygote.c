// agent-sandbox-exec --zygote -- the warm sandbox's init: one per agent, inside its bubblewrap namespaces.
//
// Starting bubblewrap costs ~4.5 ms per call (user, mount, pid namespaces, a tmpfs root, binds); this process
// pays it once per agent. The helper starts it exactly like an agent command (cgroups, rlimits, uid drop,
// no_new_privs, then bwrap --as-pid-1). It is the namespace's pid 1 (no bubblewrap init beside it holds its
// socket), is not dumpable, and runs under the seccomp filter (seccomp.c) that every call inherits. Its one
// privilege beyond a call's is CAP_SYS_ADMIN in the sandbox's own user namespace (bwrap --cap-add), used
// for one thing: each call runs in a call slot (zygote_slot.c), a fork of the zygote in new pid and mount
// namespaces with a /proc of its own and no capability left, which runs one call at a time — so no call
// sees another call's processes (their environment, command line, fds or memory) in /proc at all. Slots
// are made when the server asks (its first call, or more calls at once than it has idle slots); the server
// keeps them for later calls (at most a few idle) and hands each a call only once its last one left
// nothing running. Calls go from the server straight to a slot: the zygote is not woken per call.
//
//   fd 0  a stream socket to the server. First the server's 32-byte reply key (read once; the zygote then
//         writes "R"). Then only slot requests: a 28-byte header {SLOT_REQUEST_MAGIC, 0, 0, 16 bytes}
//         without fds, answered "S" with the server's end of the new slot's socket (SCM_RIGHTS), or "E" and
//         the errno in one byte.
//   slot  a stream socket between the server and one slot (zygote_slot.c). Each call is a 28-byte header
//         {magic, payload length, fd count, 16-byte nonce} carrying fds by SCM_RIGHTS — status, error,
//         stdin, stdout, stderr, then cgroup.procs files the server opened (the call's leaf) — and a
//         payload of NUL-terminated strings: cwd, program, argc, argv..., then environment entries to the
//         end (exactly the call's envp). The slot writes "I" back once the call left nothing running.
//   call  forked by the slot: setsid -> writes "0" to each cgroup.procs fd (joins the call's leaf before
//         anything runs; the files were opened by the server, whose credentials the kernel checks) ->
//         stdio on 0/1/2, the error pipe on 3 (CLOEXEC) -> every other fd closed -> signals reset ->
//         chdir -> execve. A failed step writes "step: reason" to the error pipe and exits 127, as the
//         helper does.
//   status replies (written by the slot, which holds the zygote's key) of 40 bytes {kind, value,
//         HMAC-SHA-256(key, nonce | kind | value)} in host byte order: STARTED with the call's pid (as the
//         slot's namespace numbers it) right after the fork, or REFUSED (the reason is on the error pipe)
//         when there is no fork; EXITED with its raw wait status when it is reaped; then the pipe is
//         closed. A reply the server cannot verify was not written here. If the zygote dies, the kernel
//         kills its namespace, slots included, and every status pipe closes without a reply.
// End of file on fd 0 (the server closed it or died) ends the zygote, and with it the pid namespace.
#define _GNU_SOURCE
#include "sandbox_exec.h"
#include "zygote_wire.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_SLOTS 256

/// Live call slots (forked, not yet reaped): at most MAX_SLOTS.
static int slot_count;

/// Forks a new slot into new pid and mount namespaces; the server's end of its socket, or -1 with errno.
/// The slot's own end is closed here: from now on only the server and the slot hold the pair.
static int new_slot(void) {
    if (slot_count >= MAX_SLOTS) { errno = EAGAIN; return -1; }
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return -1;
    // Like fork(), but the child is the first process (pid 1) of a new pid namespace, in a copy of this
    // mount namespace. x86-64 and aarch64 take (flags, stack, ...): a zero stack keeps this one.
    pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(SIGCHLD | CLONE_NEWPID | CLONE_NEWNS), 0, 0, 0, 0);
    if (pid == 0) {
        close(pair[0]);
        zygote_slot_main(pair[1]);
    }
    int saved = errno;
    close(pair[1]);
    if (pid < 0) { close(pair[0]); errno = saved; return -1; }
    slot_count++;
    return pair[0];
}

/// A slot request on the control socket: makes a slot and hands the server its end ("S" with the
/// descriptor), or says it could not ("E", then the errno in one byte). 0, or -1 if the server is gone.
static int answer_slot_request(void) {
    int socket = new_slot();
    if (socket < 0) {
        char refusal[2] = {'E', (char)(errno < 256 ? errno : EAGAIN)};
        return write(CONTROL_FD, refusal, 2) == 2 ? 0 : -1;
    }
    int sent = send_descriptor(CONTROL_FD, 'S', socket);
    close(socket);
    return sent;
}

int zygote_main(void) {
    // Not dumpable: the agent's own calls (same uid) can neither ptrace this process nor open its
    // /proc/<pid>/fd, so they cannot take the descriptors other calls are handed. execve resets it; the
    // seccomp filter, inherited by every call, refuses ptrace, pidfd_getfd and process_vm_* anyway.
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) { perror("zygote: PR_SET_DUMPABLE"); return 1; }
    if (sandbox_deny_process_access() != 0) { perror("zygote: seccomp"); return 1; }
    if (getpid() != 1) { fputs("zygote: not the namespace's init (bwrap --as-pid-1)\n", stderr); return 1; }
    signal(SIGPIPE, SIG_IGN);
    sigset_t child_signal;
    sigemptyset(&child_signal);
    sigaddset(&child_signal, SIGCHLD);
    sigprocmask(SIG_BLOCK, &child_signal, NULL);
#ifdef SYS_close_range
    syscall(SYS_close_range, 3, ~0U, 0);
#endif
    int signals = signalfd(-1, &child_signal, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signals < 0) { perror("zygote: signalfd"); return 1; }
    if (zygote_read_key() != 0) { fputs("zygote: no reply key\n", stderr); return 1; }
    if (write(CONTROL_FD, "R", 1) != 1) return 1;  // ready

    for (;;) {
        struct pollfd watched[2] = {{.fd = CONTROL_FD, .events = POLLIN}, {.fd = signals, .events = POLLIN}};
        if (poll(watched, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        if (watched[1].revents) {
            struct signalfd_siginfo info;
            while (read(signals, &info, sizeof info) == sizeof info) {}
            while (waitpid(-1, NULL, WNOHANG) > 0) slot_count--;  // ended slots (calls are their slots' children)
        }
        if (watched[0].revents) {
            struct request_header header;
            int fds[MAX_FDS], fd_count = 0;
            if (receive_header(&header, fds, &fd_count) != 0) return 0;  // the server hung up
            // Calls go to the slots, never here: anything but a slot request is a broken server.
            for (int i = 0; i < fd_count; i++) close(fds[i]);
            if (header.magic != SLOT_REQUEST_MAGIC || header.length != 0 || fd_count != 0) return 2;
            if (answer_slot_request() != 0) return 0;
        }
    }
}
