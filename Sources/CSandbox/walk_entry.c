// The walker's current entry (name, type, depth, stat, path) and the set of entries whose removal
// failed, which RESCAN passes skip. See walk.c.
#define _GNU_SOURCE
#include "walk_internal.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

int csandbox_walk_reserve_path(csandbox_walk *w, size_t needed) {
    if (needed <= w->path_capacity) return 0;
    size_t capacity = w->path_capacity * 2 > needed ? w->path_capacity * 2 : needed + 256;
    char *grown = realloc(w->path, capacity);
    if (!grown) return -1;
    w->path = grown;
    w->path_capacity = capacity;
    return 0;
}

int csandbox_walk_is_failed(const csandbox_walk *w, ino_t ino) {
    if (!w->failed_count || ino == 0) return 0;
    for (size_t i = (size_t)ino % w->failed_capacity;; i = (i + 1) % w->failed_capacity) {
        if (w->failed[i] == ino) return 1;
        if (w->failed[i] == 0) return 0;
    }
}

void csandbox_walk_failed(csandbox_walk *w) {
    ino_t ino = w->ino;
    if (ino == 0 || csandbox_walk_is_failed(w, ino)) return;
    if ((w->failed_count + 1) * 2 > w->failed_capacity) {
        size_t capacity = w->failed_capacity ? w->failed_capacity * 2 : 64;
        ino_t *table = calloc(capacity, sizeof(ino_t));
        if (!table) return;  // it will be retried on a later pass: bounded by MAX_PASSES anyway
        for (size_t i = 0; i < w->failed_capacity; i++) {
            if (!w->failed[i]) continue;
            size_t j = (size_t)w->failed[i] % capacity;
            while (table[j]) j = (j + 1) % capacity;
            table[j] = w->failed[i];
        }
        free(w->failed);
        w->failed = table;
        w->failed_capacity = capacity;
    }
    size_t j = (size_t)ino % w->failed_capacity;
    while (w->failed[j]) j = (j + 1) % w->failed_capacity;
    w->failed[j] = ino;
    w->failed_count++;
}

int csandbox_walk_dirfd(const csandbox_walk *w) {
    return w->frames[w->depth - (w->event == CSANDBOX_WALK_ENTERED ? 2 : 1)].fd;
}

const char *csandbox_walk_name(const csandbox_walk *w) { return w->name; }
unsigned char csandbox_walk_type(const csandbox_walk *w) { return w->type; }

size_t csandbox_walk_depth(const csandbox_walk *w) {
    return w->depth - (w->event == CSANDBOX_WALK_ENTERED ? 2 : 1);
}

int csandbox_walk_stat(csandbox_walk *w, struct stat *out) {
    if (!w->has_stat) {
        if (fstatat(csandbox_walk_dirfd(w), w->name, &w->st, AT_SYMLINK_NOFOLLOW) != 0) return -1;
        w->has_stat = 1;
    }
    *out = w->st;
    return 0;
}

const char *csandbox_walk_path(csandbox_walk *w, size_t *length) {
    if (w->event == CSANDBOX_WALK_LEAVE) {
        *length = w->leave_path_len;
        return w->path;  // not NUL-terminated
    }
    if (w->event == CSANDBOX_WALK_ENTERED) {
        const frame *entered = &w->frames[w->depth - 1];
        *length = entered->path_len - 1;
        return w->path;  // not NUL-terminated: the trailing slash follows
    }
    const frame *top = &w->frames[w->depth - 1];
    size_t name_length = strlen(w->name);
    if (csandbox_walk_reserve_path(w, top->path_len + name_length + 1) != 0) { *length = 0; return NULL; }
    memcpy(w->path + top->path_len, w->name, name_length + 1);
    *length = top->path_len + name_length;
    return w->path;
}
