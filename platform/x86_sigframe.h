/* The kernel's x86-64 signal frame (arch/x86/include/uapi/asm/sigcontext.h,
 * arch/x86/include/asm/sigframe.h): what the sentry builds for a guest signal and what
 * the seccomp platform's stub finds on its signal stack. Not glibc's ucontext_t, whose
 * sigset and layout differ. */
#ifndef WARD_PLATFORM_X86_SIGFRAME_H
#define WARD_PLATFORM_X86_SIGFRAME_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define USER_CS 0x33 /* the segments a 64-bit user frame must carry */
#define USER_DS 0x2b
#define WARD_FP_XSTATE_MAGIC1 0x46505853u /* an xsave area in the frame's fpstate */

struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate;
	uint64_t reserved1[8];
};

struct k_stack {
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t pad;
	uint64_t ss_size;
};

struct k_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct k_stack uc_stack;
	struct k_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};

struct k_rt_sigframe {
	uint64_t pretcode;
	struct k_ucontext uc;
	siginfo_t info;
};

_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext layout");
_Static_assert(sizeof(siginfo_t) == 128, "siginfo layout");
_Static_assert(offsetof(struct k_rt_sigframe, info) == 312, "rt_sigframe layout");

#endif
