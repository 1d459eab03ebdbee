#define _GNU_SOURCE
#include "CSandboxLoop.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <dirent.h>
#include <stdlib.h>
#include <linux/loop.h>

static int configure(int device_fd, int file_fd, unsigned int flags) {
    struct loop_config config;
    memset(&config, 0, sizeof config);
    config.fd = (unsigned int)file_fd;
    config.info.lo_flags = flags;
    return ioctl(device_fd, LOOP_CONFIGURE, &config);
}

int csandbox_loop_attach(const char *image, char *device, size_t device_size) {
    int file_fd = open(image, O_RDWR | O_CLOEXEC);
    if (file_fd < 0) return -1;
    int control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (control < 0) {
        int saved = errno;
        close(file_fd);
        errno = saved;
        return -1;
    }
    int result = -1, saved = EBUSY;
    for (int attempt = 0; attempt < 64 && result < 0; attempt++) {
        int number = ioctl(control, LOOP_CTL_GET_FREE);
        if (number < 0) { saved = errno; break; }
        snprintf(device, device_size, "/dev/loop%d", number);
        int device_fd = open(device, O_RDWR | O_CLOEXEC);
        if (device_fd < 0) {
            saved = errno;
            if (errno == ENOENT) { usleep(1000); continue; }  // devtmpfs has not made the node yet
            break;
        }
        unsigned int flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO;
        int done = configure(device_fd, file_fd, flags);
        if (done < 0 && errno == EINVAL) done = configure(device_fd, file_fd, LO_FLAGS_AUTOCLEAR);
        if (done == 0) {
            result = device_fd;
            break;
        }
        saved = errno;
        close(device_fd);
        if (saved != EBUSY) break;  // EBUSY: another process configured it between GET_FREE and us
    }
    close(control);
    close(file_fd);  // the loop device holds its own reference to the file
    if (result < 0) errno = saved;
    return result;
}

int csandbox_loop_set_capacity(const char *device) {
    int fd = open(device, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int done = ioctl(fd, LOOP_SET_CAPACITY, 0);
    int saved = errno;
    close(fd);
    errno = saved;
    return done;
}

int csandbox_loop_backs(int number, const char *image) {
    char path[64], backing[4096];
    snprintf(path, sizeof path, "/sys/block/loop%d/loop/backing_file", number);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;  // no loop/ directory: the device is not bound
    ssize_t length = read(fd, backing, sizeof backing - 1);
    close(fd);
    if (length <= 0) return 0;
    backing[length] = 0;
    if (backing[length - 1] == '\n') backing[length - 1] = 0;
    return strcmp(backing, image) == 0;
}

int csandbox_loop_find(const char *image) {
    DIR *directory = opendir("/sys/block");
    if (directory == NULL) return -1;
    int found = -1;
    struct dirent *entry;
    while (found < 0 && (entry = readdir(directory)) != NULL) {
        if (strncmp(entry->d_name, "loop", 4) != 0) continue;
        char *end = NULL;
        long number = strtol(entry->d_name + 4, &end, 10);
        if (end == entry->d_name + 4 || *end != 0 || number < 0 || number > 1 << 20) continue;
        if (csandbox_loop_backs((int)number, image)) found = (int)number;
    }
    closedir(directory);
    return found;
}
