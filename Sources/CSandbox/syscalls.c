#define _GNU_SOURCE
#include "CSandbox.h"
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
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
const int csandbox_F_SETPIPE_SZ = F_SETPIPE_SZ;
const int csandbox_O_TMPFILE = O_TMPFILE;

int csandbox_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int csandbox_socketpair_cloexec(int fds[2]) {
    return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
}

int csandbox_send_with_fds(int socket, const void *bytes, size_t count, const int *fds, int fd_count) {
    const char *cursor = bytes;
    size_t left = count;
    int first = 1;
    while (left > 0) {
        struct iovec vector = {.iov_base = (void *)cursor, .iov_len = left};
        struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1};
        char control[CMSG_SPACE(sizeof(int) * 16)];
        if (first && fd_count > 0) {
            if (fd_count > 16) { errno = EINVAL; return -1; }
            memset(control, 0, sizeof control);
            message.msg_control = control;
            message.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)fd_count);
            struct cmsghdr *header = CMSG_FIRSTHDR(&message);
            header->cmsg_level = SOL_SOCKET;
            header->cmsg_type = SCM_RIGHTS;
            header->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)fd_count);
            memcpy(CMSG_DATA(header), fds, sizeof(int) * (size_t)fd_count);
        }
        ssize_t sent = sendmsg(socket, &message, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        first = 0;
        cursor += sent;
        left -= (size_t)sent;
    }
    return 0;
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

/// Removes `name` (beneath `dirfd`) and everything under it, by descriptors: no symlink is followed,
/// no mount point crossed (st_dev checked), and paths deeper than PATH_MAX work. Returns the first errno.
static int remove_at(int dirfd, const char *name, dev_t device) {
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT ? 0 : errno;
    if (!S_ISDIR(st.st_mode)) return unlinkat(dirfd, name, 0) == 0 || errno == ENOENT ? 0 : errno;
    if (st.st_dev != device) return EXDEV;
    int first = 0;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        // A directory without read/search permission (chmod 000 by the agent): open it up, we are root.
        if (fchmodat(dirfd, name, 0700, 0) == 0) fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return errno;
    }
    DIR *dir = fdopendir(fd);
    if (!dir) { close(fd); return errno; }
    for (int pass = 0; pass < 3; pass++) {
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL) {
            if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
            int rc = remove_at(fd, entry->d_name, device);
            if (rc && !first) first = rc;
        }
        if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) { closedir(dir); return first; }
        if (errno != ENOTEMPTY) break;
        rewinddir(dir);  // entries created meanwhile or skipped by readdir: one more pass
    }
    int rc = errno;
    closedir(dir);
    return first ? first : rc;
}

int csandbox_remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    int rc = remove_at(AT_FDCWD, path, st.st_dev);
    if (rc) { errno = rc; return -1; }
    return 0;
}

static int chown_at(int dirfd, const char *name, uid_t uid, gid_t gid, dev_t device) {
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno;
    int first = fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
    if (!S_ISDIR(st.st_mode) || st.st_dev != device) return first;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return first ? first : errno;
    DIR *dir = fdopendir(fd);
    if (!dir) { close(fd); return errno; }
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
        int rc = chown_at(fd, entry->d_name, uid, gid, device);
        if (rc && !first) first = rc;
    }
    closedir(dir);
    return first;
}

static void usage_at(int dirfd, const char *name, dev_t device, long long *total) {
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    *total += (long long)st.st_blocks * 512;
    if (!S_ISDIR(st.st_mode) || st.st_dev != device) return;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    DIR *dir = fdopendir(fd);
    if (!dir) { close(fd); return; }
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
        usage_at(fd, entry->d_name, device, total);
    }
    closedir(dir);
}

long long csandbox_disk_usage(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return 0;
    long long total = 0;
    usage_at(AT_FDCWD, path, st.st_dev, &total);
    return total;
}

int csandbox_chown_tree(const char *path, uid_t uid, gid_t gid) {
    struct stat st;
    if (lstat(path, &st) != 0) return -1;
    int rc = chown_at(AT_FDCWD, path, uid, gid, st.st_dev);
    if (rc) { errno = rc; return -1; }
    return 0;
}
