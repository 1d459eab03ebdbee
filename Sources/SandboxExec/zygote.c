// agent-sandbox-exec --zygote -- the warm sandbox's init: one per agent, inside its bubblewrap namespaces.
//
// Starting bubblewrap costs ~4.5 ms per call (user, mount, pid namespaces, a tmpfs root, binds); this process
// pays it once per agent. The helper starts it exactly like an agent command (cgroups, rlimits, uid drop,
// no_new_privs, then bwrap --as-pid-1), so it holds no privilege the agent's own commands lack. It is the
// namespace's pid 1 (no bubblewrap init beside it holds its socket), reaps every orphan, is not dumpable,
// and runs under the seccomp filter (seccomp.c) that every call inherits. It forks one child per call:
//
//   fd 0  a stream socket to the server. First the server's 32-byte reply key (read once; the zygote then
//         writes "R"). Then each request is a 28-byte header {magic, payload length, fd count, 16-byte
//         nonce} carrying fds by SCM_RIGHTS — status, error, stdin, stdout, stderr, then cgroup.procs files
//         the server opened (the call's leaf) — and a payload of NUL-terminated strings:
//         cwd, program, argc, argv..., then environment entries to the end (exactly the call's envp).
//   child setsid -> writes "0" to each cgroup.procs fd (joins the call's leaf before anything runs; the
//         files were opened by the server, whose credentials the kernel checks) -> stdio on 0/1/2, the
//         error pipe on 3 (CLOEXEC) -> every other fd closed -> signals reset -> chdir -> execve.
//         A failed step writes "step: reason" to the error pipe and exits 127, as the helper does.
//   status replies of 40 bytes {kind, value, HMAC-SHA-256(key, nonce | kind | value)} in host byte order:
//         STARTED with the child's pid (as this namespace numbers it) right after the fork, or REFUSED
//         (the reason is on the error pipe) when there is no fork; EXITED with its raw wait status when
//         the child is reaped; then the pipe is closed. A reply the server cannot verify was not written
//         here. If this process dies, every status pipe closes without a reply.
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
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CALL_ERROR_FD 3
#define MAX_RUNNING 1024

enum { FD_STATUS, FD_ERROR, FD_STDIN, FD_STDOUT, FD_STDERR, FD_FIRST_CGROUP };

struct running_call {
    pid_t pid;
    int status_fd;
    uint8_t nonce[NONCE_BYTES];
};

static struct running_call running[MAX_RUNNING];
static int running_count;

static void child_fail(const char *step) {
    char message[256];
    int n = snprintf(message, sizeof message, "%s: %s", step, strerror(errno));
    if (n > 0) {
        ssize_t ignored = write(CALL_ERROR_FD, message, (size_t)(n < (int)sizeof message ? n : (int)sizeof message - 1));
        (void)ignored;
    }
    _exit(127);
}

static void close_all(int *fds, int count) {
    for (int i = 0; i < count; i++) if (fds[i] >= 0) close(fds[i]);
}

/// Refuses a call without forking: the reason on the error pipe, then a REFUSED reply.
static void refuse(int *fds, const uint8_t nonce[NONCE_BYTES], const char *text) {
    ssize_t ignored = write(fds[FD_ERROR], text, strlen(text));
    (void)ignored;
    send_reply(fds[FD_STATUS], nonce, REPLY_REFUSED, 0);
}

/// In the forked child: becomes the call's process and execs it. Never returns.
static void become_call(int *fds, int fd_count, char *cwd, char *program, char **argv, char **envp) {
    zygote_forget_key();
    if (setsid() < 0) child_fail("setsid");
    // fd 3 first: the steps below report failures there.
    if (dup2(fds[FD_ERROR], CALL_ERROR_FD) != CALL_ERROR_FD) _exit(127);
    for (int i = FD_FIRST_CGROUP; i < fd_count; i++) {
        if (write(fds[i], "0", 1) != 1) child_fail("join cgroup");
    }
    if (dup2(fds[FD_STDIN], 0) != 0 || dup2(fds[FD_STDOUT], 1) != 1 || dup2(fds[FD_STDERR], 2) != 2) child_fail("dup2");
    if (fcntl(CALL_ERROR_FD, F_SETFD, FD_CLOEXEC) != 0) child_fail("error pipe");
#ifdef SYS_close_range
    if (syscall(SYS_close_range, CALL_ERROR_FD + 1, ~0U, 0) != 0)
#endif
    {
        for (int fd = CALL_ERROR_FD + 1; fd < 65536; fd++) close(fd);
    }
    sandbox_reset_signals();
    if (chdir(cwd) != 0) child_fail("chdir");
    execve(program, argv, envp);
    child_fail("execve");
}

/// Splits the payload into its strings and forks the call. Closes every received fd except the status
/// pipe, which is kept until the child is reaped.
static void start_call(char *payload, uint32_t length, int *fds, int fd_count, const uint8_t nonce[NONCE_BYTES]) {
    if (fd_count < FD_FIRST_CGROUP) { close_all(fds, fd_count); return; }
    if (length == 0 || payload[length - 1] != '\0' || running_count >= MAX_RUNNING) {
        refuse(fds, nonce, running_count >= MAX_RUNNING ? "zygote: too many calls" : "zygote: malformed request");
        close_all(fds, fd_count);
        return;
    }
    size_t strings = 0;
    for (uint32_t i = 0; i < length; i++) if (payload[i] == '\0') strings++;
    char **list = calloc(strings + 2, sizeof(char *));
    if (!list) { refuse(fds, nonce, "zygote: out of memory"); close_all(fds, fd_count); return; }
    size_t count = 0;
    for (char *cursor = payload; cursor < payload + length; cursor += strlen(cursor) + 1) list[count++] = cursor;
    long argc = count >= 3 ? strtol(list[2], NULL, 10) : -1;
    if (count < 4 || argc < 1 || (size_t)argc > count - 3) {
        refuse(fds, nonce, "zygote: malformed request");
        free(list);
        close_all(fds, fd_count);
        return;
    }
    // argv = list[3 .. 3+argc), envp = the rest; both NULL-terminated in place.
    char **argv = calloc((size_t)argc + 1, sizeof(char *));
    char **envp = calloc(count - 3 - (size_t)argc + 1, sizeof(char *));
    if (!argv || !envp) { refuse(fds, nonce, "zygote: out of memory"); free(argv); free(envp); free(list); close_all(fds, fd_count); return; }
    for (long i = 0; i < argc; i++) argv[i] = list[3 + i];
    for (size_t i = 3 + (size_t)argc, j = 0; i < count; i++, j++) envp[j] = list[i];

    pid_t pid = fork();
    if (pid == 0) become_call(fds, fd_count, list[0], list[1], argv, envp);
    if (pid < 0) {
        char text[128];
        snprintf(text, sizeof text, "zygote fork: %s", strerror(errno));
        refuse(fds, nonce, text);
        close_all(fds, fd_count);
    } else {
        // The pid first: it tells the server the call was forked (before the error pipe can reach EOF).
        send_reply(fds[FD_STATUS], nonce, REPLY_STARTED, pid);
        running[running_count] = (struct running_call){.pid = pid, .status_fd = fds[FD_STATUS]};
        memcpy(running[running_count++].nonce, nonce, NONCE_BYTES);
        fds[FD_STATUS] = -1;
        close_all(fds, fd_count);
    }
    free(argv);
    free(envp);
    free(list);
}

/// Reaps every child that ended: the calls' main processes (their EXITED reply goes out) and, as the
/// namespace's init, every orphan re-parented here (a pid alive or unreaped is never reused, so an
/// orphan's pid cannot match a running call's).
static void reap_children(void) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < running_count; i++) {
            if (running[i].pid != pid) continue;
            send_reply(running[i].status_fd, running[i].nonce, REPLY_EXITED, status);
            close(running[i].status_fd);
            running[i] = running[--running_count];
            break;
        }
    }
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
            reap_children();
        }
        if (watched[0].revents) {
            struct request_header header;
            int fds[MAX_FDS], fd_count = 0;
            if (receive_header(&header, fds, &fd_count) != 0) return 0;  // the server hung up
            if (header.magic != ZYGOTE_MAGIC || header.length > MAX_PAYLOAD) { close_all(fds, fd_count); return 2; }
            char *payload = malloc(header.length + 1);
            if (!payload || read_fully(CONTROL_FD, payload, header.length) != 0) { close_all(fds, fd_count); return 2; }
            start_call(payload, header.length, fds, fd_count, header.nonce);
            // The call's command line and environment (secrets included) go with it: no later call's
            // child inherits them in this heap.
            explicit_bzero(payload, header.length);
            free(payload);
        }
    }
}
