// The zygote's side of its protocol with the server (zygote_wire.c; the protocol is described in zygote.c).
#ifndef ZYGOTE_WIRE_H
#define ZYGOTE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define CONTROL_FD 0
#define ZYGOTE_MAGIC 0x5a594732u  /* "ZYG2" */
/// The only request the zygote itself takes: make a call slot (calls go to the slots).
#define SLOT_REQUEST_MAGIC 0x5a59534cu  /* "LSYZ" */
#define NONCE_BYTES 16
#define MAX_FDS 16
#define MAX_PAYLOAD (8u << 20)

/// What precedes each request's payload; the fds ride with it (SCM_RIGHTS).
struct request_header {
    uint32_t magic;
    uint32_t length;
    uint32_t fd_count;
    uint8_t nonce[NONCE_BYTES];
};

enum reply_kind { REPLY_STARTED = 1, REPLY_REFUSED = 2, REPLY_EXITED = 3 };

/// Reads exactly `length` bytes; 0, or -1 at end of file or on an error.
int read_fully(int fd, char *buffer, size_t length);

/// Reads the server's reply key, the first bytes on the control socket; 0 or -1.
int zygote_read_key(void);

/// Wipes the key (in a forked child, before it becomes the call).
void zygote_forget_key(void);

/// Receives one request header with its fds; 0 on success, -1 at end of file or on a broken request.
int receive_header(struct request_header *header, int *fds, int *fd_count);

/// Sends the one byte `tag` with `fd` attached (SCM_RIGHTS) on `socket`; 0, or -1 if the peer is gone.
int send_descriptor(int socket, char tag, int fd);

/// A call slot's init (zygote_slot.c), forked by the zygote into new pid and mount namespaces; `socket`
/// is its end of a socket pair whose other end the zygote handed to the server. Never returns.
void zygote_slot_main(int socket);

/// Writes one authenticated reply to a call's status pipe (40 bytes: a single atomic pipe write).
void send_reply(int status_fd, const uint8_t nonce[NONCE_BYTES], enum reply_kind kind, int32_t value);

#endif
