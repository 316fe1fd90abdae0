/* Where the seccomp platform's pieces sit in every stub process, and the layout of a
 * guest thread's message area. Included by the stub's assembly and by the sentry.
 *
 * [STUB_BASE, +4K)     the ptrace platform's code page: the control thread's syscalls
 * [STUB_BATCH, +4K)    the batch page (read-only in the stub), as for ptrace
 * [SC_CODE, +4K)       this platform's code: signal handler, restorer, thread entry
 * [SC_FILTER, +4K)     the guest threads' seccomp filter, read-only (one page for all)
 * [SC_MSG_BASE, ...)   one message area per guest thread (SC_MSG_SLOTS of them) */
#ifndef WARD_PLATFORM_SECCOMP_LAYOUT_H
#define WARD_PLATFORM_SECCOMP_LAYOUT_H

#ifdef __ASSEMBLER__
/* stub_layout.h's constants carry C suffixes; seccomp.c checks that these agree. */
#define SC_STUB_BASE 0x7ffbff000000
#else
#include "platform/ptrace/stub_layout.h"
#define SC_STUB_BASE STUB_BASE
#endif

#define SC_CODE (SC_STUB_BASE + 0x2000)
#define SC_CODE_SIZE 0x1000
/* The guest threads' seccomp filter (struct sock_fprog, then the program), read-only. */
#define SC_FILTER (SC_STUB_BASE + 0x3000)
#define SC_FILTER_SIZE 0x1000
#define SC_MSG_BASE (SC_STUB_BASE + 0x100000)
/* A message area: a header page, then the alternate signal stack the host kernel writes
 * the guest's register and xsave state onto. Aligned to its size, so the handler finds
 * its area from its stack pointer. */
#define SC_MSG_SIZE 0x8000
#define SC_MSG_SLOTS 1024

/* Where the eventfd that wakes the sleeping sentry lives in every stub process (fd 3 is
 * the memory file, as for ptrace). */
#define SC_EVENTFD 4

/* The header of a message area (byte offsets). Everything in it is writable by guest
 * code: the sentry treats it as hostile. */
#define SC_H_STATE 0  /* u32 futex word: SC_IDLE/SC_POSTED/SC_ANSWERED */
#define SC_H_WAKE 4   /* u32: 1 = the sentry sleeps, the poster must write the eventfd */
#define SC_H_ACTION 8 /* u32: what to do with the answer: SC_ACT_* */
#define SC_H_SIGNO 12 /* u32 */
#define SC_H_INFO 16  /* u64: siginfo address, as the kernel passed it to the handler */
#define SC_H_UCTX 24  /* u64: ucontext address */
#define SC_H_FSBASE 32
#define SC_H_GSBASE 40
#define SC_H_TID 48	   /* u32: the thread's host tid, zeroed by the kernel at exit */
#define SC_H_SLEEPING 52   /* u32: 1 = the stub waits in FUTEX_WAIT, answer with a wake */
#define SC_H_SPIN 56	   /* u32: how many times the stub polls the state before sleeping */
#define SC_H_YIELDS 60	   /* u32: then how many times it yields its CPU (to the sentry) */
#define SC_H_SELF 64	   /* u64: the area's own address (the patch entry checks %gs with it) */
#define SC_H_FLAGS_STACK 0x1f8 /* a few bytes of stack for the patch entry's pushfq */
#define SC_H_SIZE 4096

/* The patch entry's frame (syscall patching, docs/design-notes.md): laid out as the
 * kernel's rt_sigframe, so that the sentry reads and writes it as it does a SIGSYS frame
 * and rt_sigreturn can load it whole. In the header page, outside the signal stack: a
 * kick that arrives while the thread is on its way back through it gets a frame of its
 * own on the signal stack. */
#define SC_TF 0x200
#define SC_TF_UC (SC_TF + 8)
#define SC_TF_MC (SC_TF_UC + 40)
#define SC_TF_INFO (SC_TF + 312)
#define SC_TF_FP 0x400
#define SC_TF_FP_MAX (SC_H_SIZE - SC_TF_FP - 4) /* the xsave area, then FP_XSTATE_MAGIC2 */

/* struct sigcontext offsets the stub's assembly uses. */
#define MC_R11 24
#define MC_RAX 104
#define MC_RCX 112
#define MC_RSP 120
#define MC_RIP 128
#define MC_EFLAGS 136
#define MC_FPSTATE 184
#define UC_MC 40
#define UC_RIP (UC_MC + MC_RIP)

#define SC_IDLE 0
#define SC_POSTED 1
#define SC_ANSWERED 2

#define SC_ACT_RETURN 0 /* through rt_sigreturn: every register, the FPU state */
#define SC_ACT_EXIT 1
#define SC_ACT_FAST 2	/* from the patch entry: only the general registers changed */
/* From the patch entry, whose FPU state is still in the thread's registers (the frame's
 * fpstate is null): */
#define SC_ACT_SAVE_FP 3     /* save it into the frame and post again (the sentry needs it) */
#define SC_ACT_SAVE_RETURN 4 /* save it into the frame, then rt_sigreturn */


#endif
