// Removal, chown and disk use of a whole tree, each one loop over the walker (walk.c).
#define _GNU_SOURCE
#include "CSandbox.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/// Failures after which a walk stops instead of going on (there is no point retrying them in a loop).
static int fatal(int code) { return code == EMFILE || code == ENFILE || code == ENOMEM; }

static int open_directory(int dirfd, const char *name) {
    return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/// Removes everything below the open directory `fd`. 0 or the first errno; *stop when it gave up.
static int remove_contents(int fd, int *stop) {
    csandbox_walk *walk = csandbox_walk_open(fd, CSANDBOX_WALK_RESCAN);
    if (!walk) { *stop = 1; return errno; }
    int first = 0, event;
    while ((event = csandbox_walk_next(walk)) > 0) {
        int parent = csandbox_walk_dirfd(walk);
        const char *name = csandbox_walk_name(walk);
        int code = 0;
        if (event == CSANDBOX_WALK_LEAVE) {
            if (unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT) code = errno;
        } else if (csandbox_walk_type(walk) != DT_DIR) {
            if (unlinkat(parent, name, 0) != 0 && errno != ENOENT) code = errno;
        } else if (csandbox_walk_enter(walk) < 0) {
            code = errno;
            if (code == EACCES || code == EPERM) {
                // A directory without read/search permission (chmod 000 by the agent): open it up, we are root.
                if (fchmodat(parent, name, 0700, 0) == 0 && csandbox_walk_enter(walk) >= 0) continue;
                code = errno;
            }
            if (fatal(code)) { first = code; *stop = 1; break; }
            // Not a directory any more, or on another file system: an empty directory still goes.
            if (unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT) code = 0;
            else if (errno == ENOTDIR && unlinkat(parent, name, 0) == 0) code = 0;
        }
        if (code) {
            if (!first) first = code;
            csandbox_walk_failed(walk);
        }
    }
    if (event == CSANDBOX_WALK_ERROR) {
        if (!first) first = errno;
        *stop = 1;
    }
    csandbox_walk_close(walk);
    return first;
}

int csandbox_remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
    int first = 0;
    for (int pass = 0; pass < 3; pass++) {
        int fd = open_directory(AT_FDCWD, path);
        if (fd < 0 && (errno == EACCES || errno == EPERM) && chmod(path, 0700) == 0) fd = open_directory(AT_FDCWD, path);
        if (fd < 0) {
            if (errno == ENOENT) return 0;
            return -1;
        }
        int stop = 0;
        int rc = remove_contents(fd, &stop);
        close(fd);
        if (rc && !first) first = rc;
        if (stop) break;
        if (rmdir(path) == 0 || errno == ENOENT) break;
        if (errno != ENOTEMPTY) { if (!first) first = errno; break; }
        if (first) break;  // something below could not be removed: another pass would not help
    }
    if (first) { errno = first; return -1; }
    struct stat left;
    if (lstat(path, &left) == 0) { errno = ENOTEMPTY; return -1; }
    return 0;
}

int csandbox_chown_tree(const char *path, uid_t uid, gid_t gid) {
    int fd = open_directory(AT_FDCWD, path);
    if (fd < 0) return errno == ENOTDIR || errno == ELOOP ? lchown(path, uid, gid) : -1;
    int first = fchown(fd, uid, gid) == 0 ? 0 : errno;
    csandbox_walk *walk = csandbox_walk_open(fd, 0);
    close(fd);
    if (!walk) return -1;
    int event;
    while ((event = csandbox_walk_next(walk)) > 0) {
        if (event != CSANDBOX_WALK_ENTRY) continue;
        int code = fchownat(csandbox_walk_dirfd(walk), csandbox_walk_name(walk), uid, gid, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
        if (!code && csandbox_walk_type(walk) == DT_DIR && csandbox_walk_enter(walk) < 0 && errno != EXDEV) {
            code = errno;
            if (fatal(code)) { first = first ? first : code; break; }
        }
        if (code && !first) first = code;
    }
    if (event == CSANDBOX_WALK_ERROR && !first) first = errno;
    csandbox_walk_close(walk);
    if (first) { errno = first; return -1; }
    return 0;
}

long long csandbox_disk_usage(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return 0;
    long long total = (long long)st.st_blocks * 512;
    if (!S_ISDIR(st.st_mode)) return total;
    int fd = open_directory(AT_FDCWD, path);
    if (fd < 0) return total;
    csandbox_walk *walk = csandbox_walk_open(fd, 0);
    close(fd);
    if (!walk) return -1;
    int event;
    while ((event = csandbox_walk_next(walk)) > 0) {
        if (event != CSANDBOX_WALK_ENTRY) continue;
        if (csandbox_walk_stat(walk, &st) != 0) continue;
        total += (long long)st.st_blocks * 512;
        if (csandbox_walk_type(walk) == DT_DIR && csandbox_walk_enter(walk) < 0 && fatal(errno)) break;
    }
    int failed = event == CSANDBOX_WALK_ERROR || (event > 0);
    int code = errno;
    csandbox_walk_close(walk);
    if (failed) { errno = code; return -1; }
    return total;
}
