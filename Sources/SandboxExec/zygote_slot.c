// A call slot of the warm sandbox: the init of a pid namespace of its own, with a fresh /proc in a mount
// namespace of its own, that runs one call at a time (zygote.c creates slots when the server asks; the
// server hands each call straight to an idle one, `WarmSandbox`).
//
// Why: the agent's calls share the sandbox's uid, so in one pid namespace any process of the agent could
// read a concurrent call's /proc/<pid>/environ, cmdline, fds or memory (secrets sent in `env` included).
// In a slot a call sees itself and its slot's init, nothing else. A slot takes its next call only once its
// namespace is empty again (every process of the last call reaped: the server kills the call's cgroup
// leaf when the call ends), so no process of one call ever shares a namespace with another call.
// Namespaces are kept for later calls rather than made per call: a mount namespace's teardown waits for an
// RCU grace period, which measured 0.5-2 ms per call on a loaded machine; a reused slot costs nothing.
//
//   setup  a fork of the zygote (same memory: not dumpable, the same seccomp filter, the reply key), made
//          by clone(CLONE_NEWPID | CLONE_NEWNS): mounts proc on /proc (stacked over the sandbox's, which
//          it hides), then drops every capability (the zygote holds CAP_SYS_ADMIN in the sandbox's user
//          namespace to do this; no call inherits any).
//   fd 0   a stream socket to the server (the zygote made the pair and handed the server its end): call
//          requests (header with fds, payload; see zygote.c). The slot forks the call (as pid 2, 3, ...),
//          replies STARTED / REFUSED and EXITED on the call's status pipe itself, reaps the call's orphans,
//          and writes "I" (idle) once no process of the call is left. End of file ends the slot and its
//          namespaces.
#define _GNU_SOURCE
#include "sandbox_exec.h"
#include "zygote_wire.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CALL_ERROR_FD 3

enum { FD_STATUS, FD_ERROR, FD_STDIN, FD_STDOUT, FD_STDERR, FD_FIRST_CGROUP };

/// The call this slot runs: its main process until it is reaped (pid 0: none).
static struct {
    pid_t pid;
    int status_fd;
    uint8_t nonce[NONCE_BYTES];
} call;
/// From a request until the namespace is empty again.
static int busy;

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
/// pipe, which is kept until the call's main process is reaped.
static void start_call(char *payload, uint32_t length, int *fds, int fd_count, const uint8_t nonce[NONCE_BYTES]) {
    if (fd_count < FD_FIRST_CGROUP) { close_all(fds, fd_count); return; }
    if (length == 0 || payload[length - 1] != '\0' || call.pid != 0) {
        refuse(fds, nonce, call.pid != 0 ? "zygote: slot busy" : "zygote: malformed request");
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
        call.pid = pid;
        call.status_fd = fds[FD_STATUS];
        memcpy(call.nonce, nonce, NONCE_BYTES);
        fds[FD_STATUS] = -1;
        close_all(fds, fd_count);
    }
    free(argv);
    free(envp);
    free(list);
}

/// Reaps every child that ended — the call's main process (its EXITED reply goes out at once, whatever
/// it left running) and, as the namespace's init, its orphans — then tells the zygote when the namespace
/// is empty.
static void reap_and_report_idle(void) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid != call.pid) continue;
        send_reply(call.status_fd, call.nonce, REPLY_EXITED, status);
        close(call.status_fd);
        call.pid = 0;
    }
    if (busy && pid < 0 && errno == ECHILD) {
        busy = 0;
        if (write(CONTROL_FD, "I", 1) != 1) _exit(0);
    }
}

/// Mounts the slot's own /proc and gives up every capability (calls are forked from here).
static int enter_namespaces(void) {
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) return -1;
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct none[2];
    memset(none, 0, sizeof none);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return -1;
    return (int)syscall(SYS_capset, &header, none);
}

void zygote_slot_main(int socket) {
    // fd 0 becomes the slot's socket (in place of the zygote's control socket, which the slot never
    // holds); nothing else stays open but stdout/stderr: not the other slots' sockets.
    if (dup2(socket, CONTROL_FD) != CONTROL_FD) _exit(1);
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3, ~0U, 0) != 0)
#endif
    {
        for (int fd = 3; fd < 65536; fd++) close(fd);
    }
    if (enter_namespaces() != 0) { perror("zygote slot: /proc or capabilities"); _exit(1); }
    sigset_t child_signal;
    sigemptyset(&child_signal);
    sigaddset(&child_signal, SIGCHLD);
    int signals = signalfd(-1, &child_signal, SFD_CLOEXEC | SFD_NONBLOCK);  // SIGCHLD stays blocked
    if (signals < 0) _exit(1);

    for (;;) {
        struct pollfd watched[2] = {{.fd = CONTROL_FD, .events = POLLIN}, {.fd = signals, .events = POLLIN}};
        if (poll(watched, 2, -1) < 0) {
            if (errno == EINTR) continue;
            _exit(1);
        }
        if (watched[1].revents) {
            struct signalfd_siginfo info;
            while (read(signals, &info, sizeof info) == sizeof info) {}
            reap_and_report_idle();
        }
        if (watched[0].revents) {
            struct request_header header;
            int fds[MAX_FDS], fd_count = 0;
            if (receive_header(&header, fds, &fd_count) != 0) _exit(0);  // the server hung up
            if (header.magic != ZYGOTE_MAGIC || header.length > MAX_PAYLOAD) { close_all(fds, fd_count); _exit(2); }
            char *payload = malloc(header.length + 1);
            if (!payload || read_fully(CONTROL_FD, payload, header.length) != 0) { close_all(fds, fd_count); _exit(2); }
            busy = 1;
            start_call(payload, header.length, fds, fd_count, header.nonce);
            explicit_bzero(payload, header.length);
            free(payload);
            reap_and_report_idle();  // a refused call leaves the slot idle at once
        }
    }
}
