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
#include <sys/wait.h>
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

int csandbox_start_writeback(int fd, long long offset, long long count) {
    return sync_file_range(fd, (off_t)offset, (off_t)count, SYNC_FILE_RANGE_WRITE);
}

int csandbox_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int csandbox_peek_exited_child(unsigned int *uid) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int rc;
    do rc = waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT); while (rc < 0 && errno == EINTR);
    if (rc < 0) return -1;
    *uid = (unsigned int)info.si_uid;
    return (int)info.si_pid;
}

int csandbox_socketpair_cloexec(int fds[2]) {
    return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
}

int csandbox_receive_descriptor(int socket, char *tag, int *fd) {
    char control[CMSG_SPACE(sizeof(int) * 4)];
    memset(control, 0, sizeof control);
    struct iovec vector = {.iov_base = tag, .iov_len = 1};
    struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    ssize_t n;
    do n = recvmsg(socket, &message, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
    *fd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < count; i++) {
            int received;
            memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (*fd < 0) *fd = received; else close(received);  // one descriptor is expected
        }
    }
    return (int)n;
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
