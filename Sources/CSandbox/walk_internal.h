// The walker's state, shared by walk.c (the walk) and walk_entry.c (the current entry and the
// failed-removal set). Private to CSandbox.
#ifndef CSANDBOX_WALK_INTERNAL_H
#define CSANDBOX_WALK_INTERNAL_H
#include "CSandbox.h"
#include <sys/stat.h>

enum { RING = 4, BUFFER_SIZE = 16384, MAX_PASSES = 3 };

typedef struct {
    int fd;              // -1 while closed (shallower than the ring)
    int needs_seek;      // reopened: lseek to `cookie` before the next read
    dev_t dev;
    ino_t ino;
    off_t cookie;        // d_off of the last record consumed
    int pos, end;        // unread records in this frame's buffer
    int pass, seen;      // rescan passes done; entries reported in this pass
    size_t name_off;     // this directory's name in `path` (its path is path[0 ..< path_len - 1])
    size_t path_len;     // length of "its/path/" with the trailing slash
} frame;

struct csandbox_walk {
    int flags;
    dev_t dev;
    int failure;         // errno of a fatal failure; the walk is over
    frame *frames;
    size_t depth, capacity;
    char *buffers[RING];
    char *path;
    size_t path_capacity;
    // The current event.
    int event;
    int finished;
    size_t leave_path_len;
    const char *name;
    ino_t ino;
    unsigned char type;
    int has_stat;
    struct stat st;
    char leave_name[256];
    // Inodes whose removal failed (RESCAN only): open addressing, 0 = empty slot.
    ino_t *failed;
    size_t failed_count, failed_capacity;
};

/// Grows the path buffer to hold `needed` bytes. 0, or -1 when out of memory.
int csandbox_walk_reserve_path(csandbox_walk *w, size_t needed);
/// Whether `ino` was marked with csandbox_walk_failed.
int csandbox_walk_is_failed(const csandbox_walk *w, ino_t ino);

#endif
