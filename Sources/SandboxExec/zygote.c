// agent-sandbox-exec --zygote -- the warm sandbox's init: one per agent, inside its bubblewrap namespaces.
//
// Starting bubblewrap costs ~4.5 ms per call (user, mount, pid namespaces, a tmpfs root, binds); this process
// pays it once per agent. The helper starts it exactly like an agent command (cgroups, rlimits, uid drop,
// no_new_privs, then bwrap), so it holds no privilege the agent's own commands lack. It then forks one
// child per call request from the server:
//
//   fd 0  a stream socket to the server. Each request is a 12-byte header {magic, payload length, fd count}
//         carrying fds by SCM_RIGHTS — status, error, stdin, stdout, stderr, then cgroup.procs files the
//         server opened (the call's leaf) — and a payload of NUL-terminated strings:
//         cwd, program, argc, argv..., then environment entries to the end.
//   child setsid -> writes "0" to each cgroup.procs fd (joins the call's leaf before anything runs; the
//         files were opened by the server, whose credentials the kernel checks) -> stdio on 0/1/2, the
//         error pipe on 3 (CLOEXEC) -> every other fd closed -> signals reset -> chdir -> execve.
//         A failed step writes "step: reason" to the error pipe and exits 127, as the helper does.
//   status right after the fork, the child's pid (4 bytes, as this namespace numbers it); when the child is
//         reaped, its raw wait status (4 bytes); then the pipe is closed. If this process dies, every status
//         pipe closes without a status.
// End of file on fd 0 (the server closed it or died) ends the zygote, and with it the pid namespace.
#define _GNU_SOURCE
#include "sandbox_exec.h"
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

#define CONTROL_FD 0
#define CALL_ERROR_FD 3
#define ZYGOTE_MAGIC 0x5a594731u  /* "ZYG1" */
#define MAX_FDS 16
#define MAX_PAYLOAD (8u << 20)
#define MAX_RUNNING 1024

struct request_header {
    uint32_t magic;
    uint32_t length;
    uint32_t fd_count;
};

enum { FD_STATUS, FD_ERROR, FD_STDIN, FD_STDOUT, FD_STDERR, FD_FIRST_CGROUP };

struct running_call {
    pid_t pid;
    int status_fd;
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

static int read_fully(int fd, char *buffer, size_t length) {
    size_t done = 0;
    while (done < length) {
        ssize_t n = read(fd, buffer + done, length - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

/// Receives one request header with its fds; 0 on success, -1 at end of file or on a broken request.
static int receive_header(struct request_header *header, int *fds, int *fd_count) {
    char control[CMSG_SPACE(sizeof(int) * MAX_FDS)];
    struct iovec vector = {.iov_base = header, .iov_len = sizeof *header};
    struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    ssize_t n;
    do n = recvmsg(CONTROL_FD, &message, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
    *fd_count = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < count && *fd_count < MAX_FDS; i++) memcpy(&fds[(*fd_count)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }
    if (n <= 0) { close_all(fds, *fd_count); return -1; }
    if ((size_t)n < sizeof *header && read_fully(CONTROL_FD, (char *)header + n, sizeof *header - (size_t)n) != 0) {
        close_all(fds, *fd_count);
        return -1;
    }
    return 0;
}

static void report_error(int error_fd, const char *text) {
    ssize_t ignored = write(error_fd, text, strlen(text));
    (void)ignored;
}

/// In the forked child: becomes the call's process and execs it. Never returns.
static void become_call(int *fds, int fd_count, char *cwd, char *program, char **argv, char **envp) {
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
static void start_call(char *payload, uint32_t length, int *fds, int fd_count) {
    if (fd_count < FD_FIRST_CGROUP) { close_all(fds, fd_count); return; }
    if (length == 0 || payload[length - 1] != '\0' || running_count >= MAX_RUNNING) {
        report_error(fds[FD_ERROR], running_count >= MAX_RUNNING ? "zygote: too many calls" : "zygote: malformed request");
        close_all(fds, fd_count);
        return;
    }
    size_t strings = 0;
    for (uint32_t i = 0; i < length; i++) if (payload[i] == '\0') strings++;
    char **list = calloc(strings + 2, sizeof(char *));
    if (!list) { report_error(fds[FD_ERROR], "zygote: out of memory"); close_all(fds, fd_count); return; }
    size_t count = 0;
    for (char *cursor = payload; cursor < payload + length; cursor += strlen(cursor) + 1) list[count++] = cursor;
    long argc = count >= 3 ? strtol(list[2], NULL, 10) : -1;
    if (count < 4 || argc < 1 || (size_t)argc > count - 3) {
        report_error(fds[FD_ERROR], "zygote: malformed request");
        free(list);
        close_all(fds, fd_count);
        return;
    }
    // argv = list[3 .. 3+argc), envp = the rest; both NULL-terminated in place.
    char **argv = calloc((size_t)argc + 1, sizeof(char *));
    char **envp = calloc(count - 3 - (size_t)argc + 1, sizeof(char *));
    if (!argv || !envp) { report_error(fds[FD_ERROR], "zygote: out of memory"); free(argv); free(envp); free(list); close_all(fds, fd_count); return; }
    for (long i = 0; i < argc; i++) argv[i] = list[3 + i];
    for (size_t i = 3 + (size_t)argc, j = 0; i < count; i++, j++) envp[j] = list[i];

    pid_t pid = fork();
    if (pid == 0) become_call(fds, fd_count, list[0], list[1], argv, envp);
    if (pid < 0) {
        char text[128];
        snprintf(text, sizeof text, "zygote fork: %s", strerror(errno));
        report_error(fds[FD_ERROR], text);
        close_all(fds, fd_count);
    } else {
        // The pid first: it tells the server the call was forked (before the error pipe can reach EOF).
        int32_t started = pid;
        ssize_t ignored = write(fds[FD_STATUS], &started, sizeof started);
        (void)ignored;
        running[running_count++] = (struct running_call){.pid = pid, .status_fd = fds[FD_STATUS]};
        fds[FD_STATUS] = -1;
        close_all(fds, fd_count);
    }
    free(argv);
    free(envp);
    free(list);
}

static void reap_children(void) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < running_count; i++) {
            if (running[i].pid != pid) continue;
            int32_t raw = status;
            ssize_t ignored = write(running[i].status_fd, &raw, sizeof raw);
            (void)ignored;
            close(running[i].status_fd);
            running[i] = running[--running_count];
            break;
        }
    }
}

int zygote_main(void) {
    // Not dumpable: the agent's own calls (same uid) can neither ptrace this process nor open its
    // /proc/<pid>/fd, so they cannot take the descriptors other calls are handed. execve resets it.
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) { perror("zygote: PR_SET_DUMPABLE"); return 1; }
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
            start_call(payload, header.length, fds, fd_count);
            free(payload);
        }
    }
}
