// The zygote's wire: requests in from the control socket, authenticated replies out to status pipes.
#define _GNU_SOURCE
#include "zygote_wire.h"
#include "sandbox_exec.h"
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/// One status reply; `code` is HMAC-SHA-256(key, nonce | kind | value).
struct reply {
    uint32_t kind;
    int32_t value;
    uint8_t code[32];
};

/// The server's reply key: only the zygote (not dumpable) and its children until they exec hold it.
static uint8_t reply_key[SANDBOX_KEY_BYTES];

int read_fully(int fd, char *buffer, size_t length) {
    size_t done = 0;
    while (done < length) {
        ssize_t n = read(fd, buffer + done, length - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

int zygote_read_key(void) {
    return read_fully(CONTROL_FD, (char *)reply_key, sizeof reply_key);
}

void zygote_forget_key(void) {
    explicit_bzero(reply_key, sizeof reply_key);
}

static void close_received(int *fds, int count) {
    for (int i = 0; i < count; i++) if (fds[i] >= 0) close(fds[i]);
}

int receive_header(struct request_header *header, int *fds, int *fd_count) {
    char control[CMSG_SPACE(sizeof(int) * MAX_FDS)];
    struct iovec vector = {.iov_base = header, .iov_len = sizeof *header};
    struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    ssize_t n;
    do n = recvmsg(CONTROL_FD, &message, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
    *fd_count = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < count && *fd_count < MAX_FDS; i++) memcpy(&fds[(*fd_count)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }
    if (n <= 0) { close_received(fds, *fd_count); return -1; }
    if ((size_t)n < sizeof *header && read_fully(CONTROL_FD, (char *)header + n, sizeof *header - (size_t)n) != 0) {
        close_received(fds, *fd_count);
        return -1;
    }
    return 0;
}

int send_descriptor(int socket, char tag, int fd) {
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec vector = {.iov_base = &tag, .iov_len = 1};
    struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t n;
    do n = sendmsg(socket, &message, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

void send_reply(int status_fd, const uint8_t nonce[NONCE_BYTES], enum reply_kind kind, int32_t value) {
    struct reply reply = {.kind = kind, .value = value};
    uint8_t message[NONCE_BYTES + 8];
    memcpy(message, nonce, NONCE_BYTES);
    memcpy(message + NONCE_BYTES, &reply.kind, 4);
    memcpy(message + NONCE_BYTES + 4, &reply.value, 4);
    sandbox_hmac_sha256(reply_key, message, sizeof message, reply.code);
    ssize_t ignored = write(status_fd, &reply, sizeof reply);
    (void)ignored;
}
