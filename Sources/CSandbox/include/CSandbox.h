#ifndef CSANDBOX_H
#define CSANDBOX_H
// C entry points Swift cannot reach on its own: variadic syscall(2) wrappers and a SHA-256.
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (| RESOLVE_NO_SYMLINKS when `no_symlinks`).
/// Returns an fd or -1 with errno set (ENOSYS on kernels before 5.6).
int csandbox_open_beneath(int dirfd, const char *path, int flags, mode_t mode, int no_symlinks);

/// pidfd_open(2): an fd that becomes readable when `pid` exits. -1 with errno on failure.
int csandbox_pidfd_open(pid_t pid);

/// Removes `path` and everything below it without following symlinks or crossing mount points,
/// working by descriptors (trees deeper than PATH_MAX are fine). Returns 0, or -1 with errno of the
/// first failure (it keeps going past failures). Thread-safe.
int csandbox_remove_tree(const char *path);

/// Bytes allocated on disk at and below `path` (like `du -s`): no symlink following, no crossing mount
/// points, working by descriptors (trees deeper than PATH_MAX are counted). Unreadable entries count 0.
long long csandbox_disk_usage(const char *path);
/// chown every entry below and including `path` (no symlink following) to uid:gid.
int csandbox_chown_tree(const char *path, uid_t uid, gid_t gid);

/// pipe2(fds, O_CLOEXEC).
int csandbox_pipe_cloexec(int fds[2]);

/// socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC).
int csandbox_socketpair_cloexec(int fds[2]);
/// Sends all `count` bytes of `bytes` on the stream socket `socket`, the first chunk carrying `fds` by
/// SCM_RIGHTS (MSG_NOSIGNAL: a closed peer is EPIPE, not SIGPIPE). 0, or -1 with errno.
int csandbox_send_with_fds(int socket, const void *bytes, size_t count, const int *fds, int fd_count);
/// O_PATH, O_TMPFILE and F_SETPIPE_SZ, which need _GNU_SOURCE and so are not visible to Swift's Glibc module.
extern const int csandbox_O_PATH;
extern const int csandbox_O_TMPFILE;
extern const int csandbox_F_SETPIPE_SZ;

/// renameat2(2) with flags (RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2).
int csandbox_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphans of our children are re-parented to us, not to PID 1.
int csandbox_set_child_subreaper(void);

/// Offset of the first occurrence of `needle` in `haystack` (memmem), or -1.
long csandbox_find(const void *haystack, size_t haystack_count, const void *needle, size_t needle_count);

/// How many times `byte` occurs in `bytes` (memchr loop).
size_t csandbox_count_byte(const void *bytes, size_t count, unsigned char byte);

/// getdents64(2) (retrying EINTR): fills `buffer` with `struct linux_dirent64` records (d_ino at 0,
/// d_off at 8, d_reclen at 16, d_type at 18, NUL-terminated d_name at 19). Bytes read, 0 at the end, -1 on error.
long csandbox_getdents(int fd, void *buffer, size_t size);

/// statx(2) of `name` in `dirfd` without following a final symlink: the mode bits (type and
/// permissions) and the modification time. 0, or -1 with errno.
int csandbox_stat_nofollow(int dirfd, const char *name, unsigned int *mode, int64_t *seconds, uint32_t *nanoseconds);

#endif
