// The server's one file-tree walker: iterative, a fixed number of open descriptors at any depth.
//
// Why C: the walk is nothing but syscalls (getdents64, openat, fstat, lseek), it must not allocate per
// level beyond a small frame, and the removal, chown and disk-use walks that use it were already C
// entry points; Swift callers (the archive export and merge) drive the same iterator through
// `csandbox_walk_*`, so there is exactly one walk implementation.
//
// How: a stack of frames, one per directory level, each recording the directory's (st_dev, st_ino),
// its name (in one shared path buffer) and its read position (the d_off cookie of the last entry
// consumed). Only the RING deepest frames keep their descriptor and getdents buffer open; a shallower
// frame's descriptor is closed when the walk goes deeper. Walking back up into a closed frame opens
// ".." of the child, checks that its (st_dev, st_ino) is the one recorded on the way down (otherwise
// the tree was moved under us: ESTALE, the walk stops; it never wanders outside), and seeks back to
// the cookie. Symlinks are never followed (O_NOFOLLOW), mount points never crossed (st_dev), and no
// call is ever retried on EMFILE: a failed open is reported to the caller, who gives up.
#define _GNU_SOURCE
#include "walk_internal.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

csandbox_walk *csandbox_walk_open(int dirfd, int flags) {
    struct stat st;
    if (fstat(dirfd, &st) != 0) return NULL;
    if (!S_ISDIR(st.st_mode)) { errno = ENOTDIR; return NULL; }
    csandbox_walk *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->flags = flags;
    w->dev = st.st_dev;
    w->capacity = 64;
    w->frames = calloc(w->capacity, sizeof(frame));
    for (int i = 0; i < RING; i++) w->buffers[i] = malloc(BUFFER_SIZE);
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (!w->frames || !w->buffers[RING - 1] || csandbox_walk_reserve_path(w, 4096) != 0 || fd < 0) {
        int saved = fd < 0 ? errno : ENOMEM;
        if (fd >= 0) close(fd);
        csandbox_walk_close(w);
        errno = saved;
        return NULL;
    }
    // Read from the start whatever the caller's descriptor position was.
    w->frames[0] = (frame){.fd = fd, .needs_seek = 1, .dev = st.st_dev, .ino = st.st_ino};
    w->depth = 1;
    return w;
}

void csandbox_walk_close(csandbox_walk *w) {
    if (!w) return;
    for (size_t i = 0; i < w->depth; i++) if (w->frames[i].fd >= 0) close(w->frames[i].fd);
    for (int i = 0; i < RING; i++) free(w->buffers[i]);
    free(w->frames);
    free(w->path);
    free(w->failed);
    free(w);
}

static int fail(csandbox_walk *w, int code) {
    w->failure = code;
    w->event = CSANDBOX_WALK_ERROR;
    errno = code;
    return CSANDBOX_WALK_ERROR;
}

/// Leaves the deepest directory: makes sure its parent is open (".." checked against the parent's
/// recorded identity), closes it, and reports it as a LEAVE event.
static int leave(csandbox_walk *w) {
    frame *child = &w->frames[w->depth - 1];
    frame *parent = &w->frames[w->depth - 2];
    if (parent->fd < 0) {
        int fd = openat(child->fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return fail(w, errno);
        struct stat st;
        if (fstat(fd, &st) != 0 || st.st_dev != parent->dev || st.st_ino != parent->ino) {
            close(fd);
            return fail(w, ESTALE);  // a directory above us was moved during the walk
        }
        parent->fd = fd;
        parent->needs_seek = 1;
        parent->pos = parent->end = 0;
    }
    close(child->fd);
    size_t length = child->path_len - 1 - child->name_off;
    memcpy(w->leave_name, w->path + child->name_off, length);
    w->leave_name[length] = 0;
    w->leave_path_len = child->path_len - 1;  // path() of a LEAVE: the directory's own path
    w->name = w->leave_name;
    w->ino = child->ino;
    w->type = DT_DIR;
    w->has_stat = 0;
    w->depth--;
    w->event = CSANDBOX_WALK_LEAVE;
    return CSANDBOX_WALK_LEAVE;
}

int csandbox_walk_next(csandbox_walk *w) {
    if (w->failure) return fail(w, w->failure);
    if (w->finished) return CSANDBOX_WALK_END;
    for (;;) {
        frame *top = &w->frames[w->depth - 1];
        char *buffer = w->buffers[(w->depth - 1) % RING];
        if (top->pos >= top->end) {
            if (top->needs_seek) {
                if (lseek(top->fd, top->cookie, SEEK_SET) < 0) return fail(w, errno);
                top->needs_seek = 0;
            }
            long count = csandbox_getdents(top->fd, buffer, BUFFER_SIZE);
            if (count < 0 && errno == ENOENT) count = 0;  // the directory itself was removed meanwhile
            if (count < 0) return fail(w, errno);
            if (count == 0) {
                // Entries created meanwhile, or skipped because removals moved the positions: read
                // the directory again until a pass reports nothing new (at most MAX_PASSES).
                if ((w->flags & CSANDBOX_WALK_RESCAN) && top->seen > 0 && top->pass + 1 < MAX_PASSES) {
                    top->pass++;
                    top->seen = 0;
                    top->cookie = 0;
                    top->needs_seek = 1;
                    continue;
                }
                if (w->depth == 1) {
                    w->finished = 1;
                    w->event = CSANDBOX_WALK_END;
                    return CSANDBOX_WALK_END;
                }
                return leave(w);
            }
            top->pos = 0;
            top->end = (int)count;
        }
        char *record = buffer + top->pos;
        unsigned short length;
        memcpy(&length, record + 16, sizeof length);
        memcpy(&top->cookie, record + 8, sizeof top->cookie);
        top->pos += length;
        const char *name = record + 19;
        if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
        ino_t ino;
        memcpy(&ino, record, sizeof ino);
        if ((w->flags & CSANDBOX_WALK_RESCAN) && csandbox_walk_is_failed(w, ino)) continue;
        top->seen++;
        w->name = name;
        w->ino = ino;
        w->type = (unsigned char)record[18];
        w->has_stat = 0;
        if (w->type == DT_UNKNOWN) {
            if (fstatat(top->fd, name, &w->st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
            w->has_stat = 1;
            w->type = (unsigned char)IFTODT(w->st.st_mode);
        }
        w->event = CSANDBOX_WALK_ENTRY;
        return CSANDBOX_WALK_ENTRY;
    }
}

int csandbox_walk_enter(csandbox_walk *w) {
    if (w->event != CSANDBOX_WALK_ENTRY || w->type != DT_DIR) { errno = EINVAL; return -1; }
    frame *top = &w->frames[w->depth - 1];
    int fd = openat(top->fd, w->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) { int saved = errno; close(fd); errno = saved; return -1; }
    if (st.st_dev != w->dev) { close(fd); errno = EXDEV; return -1; }
    size_t name_length = strlen(w->name);
    if (w->depth == w->capacity) {
        frame *grown = realloc(w->frames, w->capacity * 2 * sizeof(frame));
        if (!grown) { close(fd); errno = ENOMEM; return -1; }
        w->frames = grown;
        w->capacity *= 2;
        top = &w->frames[w->depth - 1];
    }
    if (csandbox_walk_reserve_path(w, top->path_len + name_length + 2) != 0) { close(fd); errno = ENOMEM; return -1; }
    // The entry's name lives in this frame's buffer, which the new frame does not use.
    memcpy(w->path + top->path_len, w->name, name_length);
    w->path[top->path_len + name_length] = '/';
    w->frames[w->depth] = (frame){.fd = fd, .dev = st.st_dev, .ino = st.st_ino,
                                  .name_off = top->path_len, .path_len = top->path_len + name_length + 1};
    w->depth++;
    if (w->depth > RING) {
        // Out of the ring: the frame RING levels up closes; its buffered entries are re-read later.
        frame *old = &w->frames[w->depth - 1 - RING];
        if (old->fd >= 0) { close(old->fd); old->fd = -1; }
        old->needs_seek = 1;
        old->pos = old->end = 0;
    }
    w->st = st;
    w->has_stat = 1;
    w->event = CSANDBOX_WALK_ENTERED;
    return fd;
}

