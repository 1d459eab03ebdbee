#define _GNU_SOURCE
#include "CSandbox.h"
#include <sched.h>

int csandbox_setns_net(int fd) {
    return setns(fd, CLONE_NEWNET);
}
