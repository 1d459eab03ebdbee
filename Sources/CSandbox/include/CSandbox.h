#ifndef CSANDBOX_H
#define CSANDBOX_H
// C entry points Swift cannot reach on its own: variadic syscall(2) wrappers and a SHA-256.
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <malloc.h>

/// openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (| RESOLVE_NO_SYMLINKS when `no_symlinks`).
/// Returns an fd or -1 with errno set (ENOSYS on kernels before 5.6).
int csandbox_open_beneath(int dirfd, const char *path, int flags, mode_t mode, int no_symlinks);

/// pidfd_open(2): an fd that becomes readable when `pid` exits. -1 with errno on failure.
int csandbox_pidfd_open(pid_t pid);

/// Removes `path` and everything below it without following symlinks or crossing mount points, with
/// the tree walker below (a fixed number of descriptors at any depth; directories of mode 000 are
/// opened up; a directory that fills up meanwhile is read again, at most three passes). Returns 0, or
/// -1 with errno of the first failure: it keeps going past an entry it cannot remove, but stops at
/// once when it cannot open a directory for want of descriptors or memory (EMFILE, ENFILE, ENOMEM)
/// or when a directory above it was moved (ESTALE). Thread-safe.
int csandbox_remove_tree(const char *path);

/// Bytes allocated on disk at and below `path` (like `du -s`; hard links counted per link): no
/// symlink following, no crossing mount points, any depth. Unreadable entries count 0. -1 with errno
/// when the walk had to stop (EMFILE, ENOMEM, ESTALE).
long long csandbox_disk_usage(const char *path);
/// chown every entry below and including `path` (no symlink following) to uid:gid. 0, or -1 with errno
/// of the first failure.
int csandbox_chown_tree(const char *path, uid_t uid, gid_t gid);

/// The tree walker: an iterator over everything below one directory, depth first, holding at most a
/// few descriptors (the walk is iterative; levels above the deepest four are re-opened through ".."
/// with their (st_dev, st_ino) checked). Not thread-safe; one walker per thread.
///
/// `csandbox_walk_next` reports each entry of the current directory (ENTRY; `.` and `..` excepted)
/// and, after a directory's last entry, LEAVE for that directory (its parent is then the current one).
/// A directory entry is walked into only if the caller calls `csandbox_walk_enter` before the next
/// `csandbox_walk_next`. Names, paths and descriptors are valid until the next call.
typedef struct csandbox_walk csandbox_walk;
#define CSANDBOX_WALK_ERROR (-1)   /* the walk stopped: errno (also on every later call) */
#define CSANDBOX_WALK_END 0
#define CSANDBOX_WALK_ENTRY 1
#define CSANDBOX_WALK_LEAVE 2
#define CSANDBOX_WALK_ENTERED 3    /* the state after csandbox_walk_enter (never returned by next) */
/// Flag: removing. A directory whose pass reported entries is read again from its start (at most three
/// passes), and entries marked with `csandbox_walk_failed` are not reported again.
#define CSANDBOX_WALK_RESCAN 1

/// A walker over the directory `dirfd` (opened O_RDONLY | O_DIRECTORY; the walker uses a duplicate and
/// reads from its start), or NULL with errno.
csandbox_walk *csandbox_walk_open(int dirfd, int flags);
void csandbox_walk_close(csandbox_walk *walk);
/// The next event: ENTRY, LEAVE, END or ERROR (errno set).
int csandbox_walk_next(csandbox_walk *walk);
/// Walks into the directory just reported (ENTRY of type DT_DIR): its descriptor (owned by the walker),
/// or -1 with errno (EXDEV: another file system; EACCES, ENOENT, ELOOP/ENOTDIR: swapped for a symlink
/// or a file; EMFILE, ENOMEM: give up). Never follows a symlink.
int csandbox_walk_enter(csandbox_walk *walk);
/// Marks the entry just reported (ENTRY or LEAVE) as one that could not be removed (RESCAN walks).
void csandbox_walk_failed(csandbox_walk *walk);
/// The directory holding the current entry (for LEAVE: the left directory's parent).
int csandbox_walk_dirfd(const csandbox_walk *walk);
/// The current entry's name (NUL-terminated).
const char *csandbox_walk_name(const csandbox_walk *walk);
/// Its DT_* type (never DT_UNKNOWN).
unsigned char csandbox_walk_type(const csandbox_walk *walk);
/// Its depth: 0 for the entries of the walk's directory.
size_t csandbox_walk_depth(const csandbox_walk *walk);
/// lstat of the current entry (after enter: fstat of the opened directory). 0, or -1 with errno.
int csandbox_walk_stat(csandbox_walk *walk, struct stat *out);
/// The current entry's path relative to the walk's directory, `length` bytes (not NUL-terminated).
const char *csandbox_walk_path(csandbox_walk *walk, size_t *length);

/// pipe2(fds, O_CLOEXEC).
int csandbox_pipe_cloexec(int fds[2]);

/// An exited child of this process, left waitable (waitid WEXITED|WNOHANG|WNOWAIT): its pid with its real
/// uid in `uid`, 0 when no child has exited, -1 with errno (ECHILD: no children at all).
int csandbox_peek_exited_child(unsigned int *uid);

/// socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC).
int csandbox_socketpair_cloexec(int fds[2]);
/// Receives one byte into `tag` from the stream socket `socket` with at most one descriptor attached
/// (SCM_RIGHTS, O_CLOEXEC) into `fd` (-1 when none; extra ones are closed). recvmsg's result.
int csandbox_receive_descriptor(int socket, char *tag, int *fd);
/// Sends all `count` bytes of `bytes` on the stream socket `socket`, the first chunk carrying `fds` by
/// SCM_RIGHTS (MSG_NOSIGNAL: a closed peer is EPIPE, not SIGPIPE). 0, or -1 with errno.
int csandbox_send_with_fds(int socket, const void *bytes, size_t count, const int *fds, int fd_count);
/// O_PATH, O_TMPFILE and F_SETPIPE_SZ, which need _GNU_SOURCE and so are not visible to Swift's Glibc module.
extern const int csandbox_O_PATH;
extern const int csandbox_O_TMPFILE;
extern const int csandbox_F_SETPIPE_SZ;

/// sync_file_range(fd, offset, count, SYNC_FILE_RANGE_WRITE): starts writing that range's dirty pages
/// back without waiting for them (a later fsync then has less left to wait for). 0, or -1 with errno.
int csandbox_start_writeback(int fd, long long offset, long long count);

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

/// A new pseudo-terminal pair on the host's devpts: the master (O_RDWR|O_NOCTTY|O_CLOEXEC) and its slave
/// (opened O_NOCTTY|O_CLOEXEC, so it becomes nobody's controlling terminal here), the slave owned by
/// `uid`:`gid` mode 0600, the window `cols` x `rows`. 0, or -1 with errno (nothing left open).
int csandbox_pty_open(int *master, int *slave, unsigned int uid, unsigned int gid, unsigned short cols, unsigned short rows);

/// TIOCSWINSZ on a pty master: the foreground process group of the slave gets SIGWINCH. 0 or -1.
int csandbox_pty_resize(int fd, unsigned short cols, unsigned short rows);

/// TIOCGWINSZ. 0 or -1.
int csandbox_pty_size(int fd, unsigned short *cols, unsigned short *rows);

#include "CSandboxLoop.h"

/// Moves the calling thread into the network namespace `fd` refers to (setns(2), CLONE_NEWNET); 0 or -1
/// with errno. Only this thread moves: the preview proxy enters an agent's namespace to make a socket there.
int csandbox_setns_net(int fd);

#endif
