// agent-sandbox-exec -- the last step between the server and an agent's command.
//
// The server posix_spawn()s this helper (it never forks itself), with stdin/stdout/stderr already on
// pipes, an error pipe on fd 3 and the agent's minimal environment as envp. The helper then, in order:
//   setsid -> join each --cgroup -> setrlimit each --rlimit -> [--private-network: new net namespace
//   with loopback up | --netns FILE: join the agent's network namespace (a bind-mounted nsfs file the
//   server made; setns needs root, so it happens before the uid drop)] -> reset signals -> close every fd >= 4 -> [--data-fd TEXT: memfds at fd 4, 5, ...
//   holding TEXT, for bubblewrap's --ro-bind-data] -> setgroups(0) + setresgid + setresuid
//   -> PR_SET_NO_NEW_PRIVS -> [--deny-process-access: the seccomp filter of seccomp.c] -> chdir --cwd -> execve.
// Any failure writes "step: reason" to fd 3 and exits 127; a successful exec closes fd 3 (CLOEXEC), so the
// server reads EOF with no data. Only async-signal-safe work happens here: there is no Swift in this process.
//
// usage: agent-sandbox-exec [--uid N --gid N] [--cgroup DIR]... [--rlimit NAME=SOFT[:HARD]]...
//                           [--cwd DIR] [--nice N] [--private-network | --netns FILE] [--deny-process-access]
//                           [--data-fd TEXT]...
//                           -- PROGRAM [ARG]...
//        agent-sandbox-exec --zygote     (inside an agent's bubblewrap sandbox: see zygote.c)
//        agent-sandbox-exec --make-netns FILE HOSTIF AGENT_ADDR HOST_ADDR [localnet]   (see netns.c)
#define _GNU_SOURCE
#include "sandbox_exec.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

#define ERROR_FD 3
#define MAX_CGROUPS 8
#define MAX_RLIMITS 8
#define MAX_DATA_FDS 4


static void fail(const char *step, const char *detail) {
    char message[512];
    int n = snprintf(message, sizeof message, "%s: %s", step, detail ? detail : strerror(errno));
    if (n > 0) {
        ssize_t ignored = write(ERROR_FD, message, (size_t)(n < (int)sizeof message ? n : (int)sizeof message - 1));
        (void)ignored;
    }
    _exit(127);
}

static long parse_long(const char *text, const char *what) {
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0') fail(what, "not a number");
    return value;
}

static int rlimit_resource(const char *name) {
    if (strcmp(name, "core") == 0) return RLIMIT_CORE;
    if (strcmp(name, "nofile") == 0) return RLIMIT_NOFILE;
    if (strcmp(name, "nproc") == 0) return RLIMIT_NPROC;
    if (strcmp(name, "fsize") == 0) return RLIMIT_FSIZE;
    if (strcmp(name, "as") == 0) return RLIMIT_AS;
    if (strcmp(name, "cpu") == 0) return RLIMIT_CPU;
    return -1;
}

/// "nofile=1024" or "nofile=1024:4096"; a limit never goes above the current hard limit.
static void apply_rlimit(const char *spec) {
    char name[32];
    const char *equals = strchr(spec, '=');
    if (!equals || (size_t)(equals - spec) >= sizeof name) fail("rlimit", "expected NAME=SOFT[:HARD]");
    memcpy(name, spec, (size_t)(equals - spec));
    name[equals - spec] = '\0';
    int resource = rlimit_resource(name);
    if (resource < 0) fail("rlimit", "unknown resource");
    char *end = NULL;
    unsigned long long soft = strtoull(equals + 1, &end, 10);
    unsigned long long hard = soft;
    if (*end == ':') hard = strtoull(end + 1, &end, 10);
    if (*end != '\0') fail("rlimit", "bad value");
    struct rlimit current;
    if (getrlimit(resource, &current) != 0) fail("getrlimit", NULL);
    if (current.rlim_max != RLIM_INFINITY && hard > current.rlim_max) hard = current.rlim_max;
    if (soft > hard) soft = hard;
    struct rlimit wanted = {.rlim_cur = (rlim_t)soft, .rlim_max = (rlim_t)hard};
    if (setrlimit(resource, &wanted) != 0) fail("setrlimit", NULL);
}

static void join_cgroup(const char *dir) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= (int)sizeof path) fail("cgroup", "path too long");
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail("open cgroup.procs", NULL);
    if (write(fd, "0", 1) != 1) fail("join cgroup", NULL);
    close(fd);
}

/// A new network namespace holding only loopback (up): the agent reaches nothing but itself.
static void private_network(void) {
    if (unshare(CLONE_NEWNET) != 0) fail("unshare(CLONE_NEWNET)", NULL);
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) fail("socket", NULL);
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    if (ioctl(sock, SIOCGIFFLAGS, &request) != 0) fail("SIOCGIFFLAGS lo", NULL);
    request.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(sock, SIOCSIFFLAGS, &request) != 0) fail("SIOCSIFFLAGS lo", NULL);
    close(sock);
}

/// Joins the network namespace bound at `path` (the agent's own, shared by all its processes).
static void join_network(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("open --netns", NULL);
    if (setns(fd, CLONE_NEWNET) != 0) fail("setns(CLONE_NEWNET)", NULL);
    close(fd);
}

/// Puts `text` in an anonymous memory file at descriptor `target` (inherited by the program).
static void data_fd(const char *text, int target) {
    int fd = memfd_create("agent-sandbox-data", 0);
    if (fd < 0) fail("memfd_create", NULL);
    size_t length = strlen(text);
    if (write(fd, text, length) != (ssize_t)length) fail("write memfd", NULL);
    if (lseek(fd, 0, SEEK_SET) != 0) fail("lseek memfd", NULL);
    if (fd != target) {
        if (dup2(fd, target) != target) fail("dup2 memfd", NULL);
        close(fd);
    }
}

static void close_inherited_fds(void) {
    if (fcntl(ERROR_FD, F_SETFD, FD_CLOEXEC) != 0) fail("error pipe", NULL);
#ifdef SYS_close_range
    if (syscall(SYS_close_range, ERROR_FD + 1, ~0U, 0) == 0) return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = ERROR_FD + 1; fd < (max > 0 ? max : 65536); fd++) close((int)fd);
}

int main(int argc, char **argv) {
    long uid = -1, gid = -1, nice_value = 0;
    const char *cwd = NULL, *netns = NULL;
    const char *cgroups[MAX_CGROUPS];
    const char *rlimits[MAX_RLIMITS];
    const char *data[MAX_DATA_FDS];
    int cgroup_count = 0, rlimit_count = 0, data_count = 0, network = 0, deny_process_access = 0, index = 1;
    if (argc == 2 && strcmp(argv[1], "--zygote") == 0) return zygote_main();
    if (argc >= 2 && strcmp(argv[1], "--make-netns") == 0) return make_netns_main(argc, argv);

    for (; index < argc; index++) {
        const char *flag = argv[index];
        if (strcmp(flag, "--") == 0) { index++; break; }
        if (strcmp(flag, "--private-network") == 0) { network = 1; continue; }
        if (strcmp(flag, "--deny-process-access") == 0) { deny_process_access = 1; continue; }
        if (index + 1 >= argc) fail(flag, "missing value");
        const char *value = argv[++index];
        if (strcmp(flag, "--uid") == 0) uid = parse_long(value, "--uid");
        else if (strcmp(flag, "--gid") == 0) gid = parse_long(value, "--gid");
        else if (strcmp(flag, "--cwd") == 0) cwd = value;
        else if (strcmp(flag, "--netns") == 0) netns = value;
        else if (strcmp(flag, "--nice") == 0) nice_value = parse_long(value, "--nice");
        else if (strcmp(flag, "--cgroup") == 0 && cgroup_count < MAX_CGROUPS) cgroups[cgroup_count++] = value;
        else if (strcmp(flag, "--rlimit") == 0 && rlimit_count < MAX_RLIMITS) rlimits[rlimit_count++] = value;
        else if (strcmp(flag, "--data-fd") == 0 && data_count < MAX_DATA_FDS) data[data_count++] = value;
        else fail(flag, "unknown option");
    }
    if (index >= argc) fail("usage", "no program after --");
    if ((uid < 0) != (gid < 0)) fail("usage", "--uid and --gid go together");
    if (uid == 0 || gid == 0) fail("usage", "refusing to run an agent command as root");

    if (setsid() < 0) fail("setsid", NULL);
    for (int i = 0; i < cgroup_count; i++) join_cgroup(cgroups[i]);
    for (int i = 0; i < rlimit_count; i++) apply_rlimit(rlimits[i]);
    if (nice_value != 0 && setpriority(PRIO_PROCESS, 0, (int)nice_value) != 0) fail("setpriority", NULL);
    if (network) private_network();
    else if (netns) join_network(netns);
    sandbox_reset_signals();
    close_inherited_fds();
    for (int i = 0; i < data_count; i++) data_fd(data[i], ERROR_FD + 1 + i);
    umask(022);

    if (uid >= 0) {
        if (setgroups(0, NULL) != 0) fail("setgroups", NULL);
        if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) != 0) fail("setresgid", NULL);
        if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0) fail("setresuid", NULL);
        if (getuid() != (uid_t)uid || geteuid() != (uid_t)uid || getegid() != (gid_t)gid) fail("verify uid", "still privileged");
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("no_new_privs", NULL);
    if (deny_process_access && sandbox_deny_process_access() != 0) fail("seccomp", NULL);
    if (cwd && chdir(cwd) != 0) fail("chdir", NULL);

    execve(argv[index], &argv[index], environ);
    fail("execve", NULL);
    return 127;
}
