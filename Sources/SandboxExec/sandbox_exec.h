// Shared by the exec helper (main.c) and the warm sandbox's zygote (zygote.c).
#ifndef SANDBOX_EXEC_H
#define SANDBOX_EXEC_H

/// Every signal back to its default disposition and an empty signal mask (what a fresh program expects).
void sandbox_reset_signals(void);

/// The warm sandbox's zygote (`agent-sandbox-exec --zygote`); returns the process's exit status.
int zygote_main(void);

#endif
