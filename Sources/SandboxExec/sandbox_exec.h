// Shared by the exec helper (main.c) and the warm sandbox's zygote (zygote.c).
#ifndef SANDBOX_EXEC_H
#define SANDBOX_EXEC_H

#include <stddef.h>
#include <stdint.h>

/// Every signal back to its default disposition and an empty signal mask (what a fresh program expects).
void sandbox_reset_signals(void);

/// Installs the seccomp filter of every agent process under bubblewrap (seccomp.c): ptrace, pidfd_getfd and
/// process_vm_readv/writev fail with EPERM. Sets no_new_privs first. 0, or -1 with errno.
int sandbox_deny_process_access(void);

/// Bytes of the warm sandbox's reply key.
#define SANDBOX_KEY_BYTES 32

/// HMAC-SHA-256 of `message` under the warm sandbox's reply key (hmac.c).
void sandbox_hmac_sha256(const uint8_t key[SANDBOX_KEY_BYTES], const void *message, size_t count, uint8_t code[32]);

/// The warm sandbox's zygote (`agent-sandbox-exec --zygote`); returns the process's exit status.
int zygote_main(void);

/// An isolated agent's network namespace and veth pair (`agent-sandbox-exec --make-netns`, netns.c);
/// returns the process's exit status.
int make_netns_main(int argc, char **argv);

#endif
