// The seccomp filter every agent process under bubblewrap runs with: no process may read or write
// another's memory or descriptors, whatever its uid or dumpable state. ptrace, pidfd_getfd,
// process_vm_readv and process_vm_writev fail with EPERM (so strace and gdb do not work in the sandbox);
// everything else is allowed. Calls from an architecture the filter does not know kill the process,
// so a 32-bit or x32 entry point cannot go around it.
#define _GNU_SOURCE
#include "sandbox_exec.h"
#include <errno.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

#define X32_SYSCALL_BIT 0x40000000u

/// The four refused calls' numbers on one architecture.
struct refused_calls {
    uint32_t arch;
    uint32_t numbers[4];  // ptrace, process_vm_readv, process_vm_writev, pidfd_getfd
};

static const struct refused_calls tables[] = {
    {AUDIT_ARCH_X86_64, {101, 310, 311, 438}},
    {AUDIT_ARCH_I386, {26, 347, 348, 438}},
    {AUDIT_ARCH_AARCH64, {117, 270, 271, 438}},
};

#define TABLES (sizeof tables / sizeof tables[0])
// Load arch; per table: jeq arch, load nr, [x32 check], 4 x jeq, allow; then kill and deny.
#define MAX_PROGRAM (1 + TABLES * 8 + 2)

int sandbox_deny_process_access(void) {
    struct sock_filter program[MAX_PROGRAM];
    unsigned short length = 0;
    unsigned short deny_jumps[TABLES * 5];  // instructions whose true branch goes to the final "deny"
    unsigned count = 0;
    program[length++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    for (unsigned t = 0; t < TABLES; t++) {
        int x32 = tables[t].arch == AUDIT_ARCH_X86_64;
        // Another arch skips this table's instructions; the accumulator still holds the arch for the next test.
        unsigned char block = (unsigned char)(6 + x32);
        program[length++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, tables[t].arch, 0, block);
        program[length++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
        if (x32) {
            deny_jumps[count++] = length;
            program[length++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 0);
        }
        for (int i = 0; i < 4; i++) {
            deny_jumps[count++] = length;
            program[length++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, tables[t].numbers[i], 0, 0);
        }
        program[length++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    }
    program[length++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    unsigned short deny = length;
    program[length++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
    for (unsigned i = 0; i < count; i++) program[deny_jumps[i]].jt = (unsigned char)(deny - deny_jumps[i] - 1);

    struct sock_fprog filter = {.len = length, .filter = program};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter, 0, 0);
}
