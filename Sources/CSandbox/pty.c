// Pseudo-terminals for exec sessions with `tty: true`. The server keeps the master; only the slave is
// handed to the agent's process tree (as its fds 0-2), which makes it its controlling terminal itself
// (setsid -c inside the sandbox). ioctl is variadic, so Swift reaches it through these shims.
#define _GNU_SOURCE
#include "CSandbox.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

int csandbox_pty_open(int *master, int *slave, unsigned int uid, unsigned int gid, unsigned short cols, unsigned short rows) {
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) return -1;
    int unlock = 0, s = -1;
    if (ioctl(m, TIOCSPTLCK, &unlock) != 0) goto fail;
    // TIOCGPTPEER opens the slave through the master itself (no path lookup that could be raced).
    s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) {
        char name[64];
        if (ptsname_r(m, name, sizeof name) == 0) s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    }
    if (s < 0) goto fail;
    if (fchown(s, uid, gid) != 0 || fchmod(s, 0600) != 0) goto fail_both;
    struct winsize size = {.ws_row = rows, .ws_col = cols};
    if (ioctl(m, TIOCSWINSZ, &size) != 0) goto fail_both;
    *master = m;
    *slave = s;
    return 0;
fail_both: {
        int saved = errno;
        close(s);
        errno = saved;
    }
fail: {
        int saved = errno;
        close(m);
        errno = saved;
        return -1;
    }
}

int csandbox_pty_resize(int fd, unsigned short cols, unsigned short rows) {
    struct winsize size = {.ws_row = rows, .ws_col = cols};
    return ioctl(fd, TIOCSWINSZ, &size);
}

int csandbox_pty_size(int fd, unsigned short *cols, unsigned short *rows) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return -1;
    *cols = size.ws_col;
    *rows = size.ws_row;
    return 0;
}
