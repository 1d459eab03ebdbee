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
// are made on demand (the first call, or more calls at once than there are idle slots), kept for later
// calls (at most SPARE_SLOTS idle), and take a call only once their last one left nothing running.
//
//   fd 0  a stream socket to the server. First the server's 32-byte reply key (read once; the zygote then
//         writes "R"). Then each request is a 28-byte header {magic, payload length, fd count, 16-byte
//         nonce} carrying fds by SCM_RIGHTS — status, error, stdin, stdout, stderr, then cgroup.procs files
//         the server opened (the call's leaf) — and a payload of NUL-terminated strings:
//         cwd, program, argc, argv..., then environment entries to the end (exactly the call's envp).
//         The zygote hands the request unchanged to an idle slot, closes its copies of the fds and wipes
//         its copy of the payload.
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
/// Idle slots kept for later calls; beyond these, a slot that falls idle is ended.
#define SPARE_SLOTS 4

/// A call slot: its init's pid, the zygote's end of its socket, and whether it runs a call.
struct slot {
    pid_t pid;
    int socket;
    int busy;
};

static struct slot slots[MAX_SLOTS];
static int slot_count;

static void close_all(int *fds, int count) {
    for (int i = 0; i < count; i++) if (fds[i] >= 0) close(fds[i]);
}

/// Ends a slot (its init reads end of file and exits; it is reaped as any child).
static void drop_slot(int index) {
    close(slots[index].socket);
    slots[index] = slots[--slot_count];
}

/// Forks a new slot into new pid and mount namespaces; its index, or -1 with errno. `in_flight` (the
/// payload being handed over, `length` bytes) is wiped in the slot's copy of this heap: the slot keeps no
/// call's secrets but the one it runs, and only until its fork.
static int new_slot(char *in_flight, size_t length) {
    if (slot_count >= MAX_SLOTS) { errno = EAGAIN; return -1; }
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return -1;
    // Like fork(), but the child is the first process (pid 1) of a new pid namespace, in a copy of this
    // mount namespace. x86-64 and aarch64 take (flags, stack, ...): a zero stack keeps this one.
    pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(SIGCHLD | CLONE_NEWPID | CLONE_NEWNS), 0, 0, 0, 0);
    if (pid == 0) {
        explicit_bzero(in_flight, length);
        zygote_slot_main(pair[1]);
    }
    int saved = errno;
    close(pair[1]);
    if (pid < 0) { close(pair[0]); errno = saved; return -1; }
    slots[slot_count] = (struct slot){.pid = pid, .socket = pair[0], .busy = 0};
    return slot_count++;
}

/// Hands a request to an idle slot (a new one if none is idle). On failure the call is refused: the
/// reason on its error pipe, a REFUSED reply on its status pipe.
static void dispatch(const struct request_header *header, int *fds, int fd_count, char *payload) {
    for (int attempt = 0; attempt < 2; attempt++) {
        int index = -1;
        for (int i = 0; i < slot_count && index < 0; i++) if (!slots[i].busy) index = i;
        if (index < 0 && (index = new_slot(payload, header->length)) < 0) break;
        if (forward_request(slots[index].socket, header, fds, fd_count, payload) == 0) {
            slots[index].busy = 1;
            close_all(fds, fd_count);
            return;
        }
        drop_slot(index);  // it died since it last said it was idle: try a fresh one
    }
    if (fd_count > 1) {
        char text[128];
        int n = snprintf(text, sizeof text, "zygote: no call slot: %s", strerror(errno));
        ssize_t ignored = write(fds[1], text, (size_t)n);
        (void)ignored;
        send_reply(fds[0], header->nonce, REPLY_REFUSED, 0);
    }
    close_all(fds, fd_count);
}

/// A slot's socket is readable: "I" (its namespace is empty again), or end of file (it died).
static void slot_message(int index) {
    char byte;
    ssize_t n = read(slots[index].socket, &byte, 1);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n != 1 || byte != 'I') { drop_slot(index); return; }
    slots[index].busy = 0;
    int idle = 0;
    for (int i = 0; i < slot_count; i++) idle += !slots[i].busy;
    if (idle > SPARE_SLOTS) drop_slot(index);
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
        struct pollfd watched[2 + MAX_SLOTS] = {{.fd = CONTROL_FD, .events = POLLIN}, {.fd = signals, .events = POLLIN}};
        int watching = slot_count;
        for (int i = 0; i < watching; i++) watched[2 + i] = (struct pollfd){.fd = slots[i].socket, .events = POLLIN};
        if (poll(watched, (nfds_t)(2 + watching), -1) < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        if (watched[1].revents) {
            struct signalfd_siginfo info;
            while (read(signals, &info, sizeof info) == sizeof info) {}
            while (waitpid(-1, NULL, WNOHANG) > 0) {}  // ended slots (calls are their slots' children)
        }
        // Slots first (a slot that fell idle takes the next call), last to first: dropping one moves
        // the last slot into its place.
        for (int i = watching - 1; i >= 0; i--) {
            if (watched[2 + i].revents) slot_message(i);
        }
        if (watched[0].revents) {
            struct request_header header;
            int fds[MAX_FDS], fd_count = 0;
            if (receive_header(&header, fds, &fd_count) != 0) return 0;  // the server hung up
            if (header.magic != ZYGOTE_MAGIC || header.length > MAX_PAYLOAD) { close_all(fds, fd_count); return 2; }
            char *payload = malloc(header.length + 1);
            if (!payload || read_fully(CONTROL_FD, payload, header.length) != 0) { close_all(fds, fd_count); return 2; }
            dispatch(&header, fds, fd_count, payload);
            // The call's command line and environment (secrets included) go to its slot: no later slot
            // inherits them in this heap.
            explicit_bzero(payload, header.length);
            free(payload);
        }
    }
}
