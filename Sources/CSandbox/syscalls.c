#define _GNU_SOURCE
#include "CSandbox.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <linux/openat2.h>

int csandbox_open_beneath(int dirfd, const char *path, int flags, mode_t mode, int no_symlinks) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (no_symlinks ? RESOLVE_NO_SYMLINKS : 0);
    long fd;
    do {
        fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    return (int)fd;
}

const int csandbox_O_PATH = O_PATH;
const int csandbox_O_TMPFILE = O_TMPFILE;

int csandbox_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int csandbox_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
    return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
}

int csandbox_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int csandbox_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int first_error;

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st; (void)ftw;
    int rc = (type == FTW_DP) ? rmdir(path) : unlink(path);
    if (rc != 0 && errno != ENOENT && first_error == 0) first_error = errno;
    return 0;
}

int csandbox_remove_tree(const char *path) {
    first_error = 0;  // callers serialise removals (one agent delete at a time holds the agent lock)
    if (nftw(path, remove_entry, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0 && errno != ENOENT) return -1;
    if (first_error) { errno = first_error; return -1; }
    return 0;
}

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st; (void)type; (void)ftw;
    if (lchown(path, chown_uid, chown_gid) != 0 && first_error == 0) first_error = errno;
    return 0;
}

int csandbox_chown_tree(const char *path, uid_t uid, gid_t gid) {
    first_error = 0;
    chown_uid = uid; chown_gid = gid;
    if (nftw(path, chown_entry, 64, FTW_PHYS | FTW_MOUNT) != 0) return -1;
    if (first_error) { errno = first_error; return -1; }
    return 0;
}
