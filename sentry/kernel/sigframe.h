/* Architecture-specific signal frames (x86-64 now; arm64 later gets its own file). */
#ifndef WARD_KERNEL_SIGFRAME_H
#define WARD_KERNEL_SIGFRAME_H

#include "sentry/kernel/kernel.h"

/* Pushes a frame for sig on t's stack and points t's registers at the handler. */
int sigframe_build(struct task *t, int sig, const siginfo_t *info, const struct ksigaction *act,
		   uint64_t oldmask);
/* rt_sigreturn: restores registers, mask, altstack and FPU state from the frame. */
int sigframe_restore(struct task *t);

#endif
