#ifndef CSANDBOX_LOOP_H
#define CSANDBOX_LOOP_H
// Loop devices for per-agent disk images (Workspace/DiskImage.swift).
#include <stddef.h>

/// Attaches `image` to a free loop device (LOOP_CTL_GET_FREE, then LOOP_CONFIGURE with autoclear and
/// direct I/O when the backing file system allows it; retried when another process took the device
/// first). Writes "/dev/loopN" into `device`. Returns an open descriptor of the device — keep it open
/// until the file system is mounted: with autoclear the device detaches itself when its last user
/// (the mount, or this descriptor) goes — or -1 with errno.
int csandbox_loop_attach(const char *image, char *device, size_t device_size);

/// Makes the loop device `device` re-read its backing file's size (LOOP_SET_CAPACITY). 0 or -1 with errno.
int csandbox_loop_set_capacity(const char *device);

/// The number N of a loop device `/dev/loopN` whose backing file is `image` (an absolute path without
/// symlinks, as the kernel reports it in /sys/block/loopN/loop/backing_file), or -1 when none is.
/// A device stays bound while any mount of its file system lives, in any mount namespace: a sandbox
/// being set up holds a copy of every mount of the host for a moment after an unmount here.
int csandbox_loop_find(const char *image);

/// 1 when loop device number `number` is bound to `image` (same path rule as `csandbox_loop_find`), else 0.
int csandbox_loop_backs(int number, const char *image);

#endif
