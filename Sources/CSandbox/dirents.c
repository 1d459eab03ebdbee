#define _GNU_SOURCE
#include "CSandbox.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

long csandbox_getdents(int fd, void *buffer, size_t size) {
    long count;
    do {
        count = syscall(SYS_getdents64, fd, buffer, size);
    } while (count < 0 && errno == EINTR);
    return count;
}

int csandbox_stat_nofollow(int dirfd, const char *name, unsigned int *mode, int64_t *seconds, uint32_t *nanoseconds) {
    struct statx info;
    if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE | STATX_MTIME, &info) != 0) return -1;
    *mode = info.stx_mode;
    *seconds = info.stx_mtime.tv_sec;
    *nanoseconds = info.stx_mtime.tv_nsec;
    return 0;
}
